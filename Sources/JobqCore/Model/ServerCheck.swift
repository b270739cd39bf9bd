/// What ``JobqClient/checkServer()`` read, and the warnings that follow from it.
public struct ServerCheck: Sendable, Hashable {
    /// `maxmemory-policy`; `nil` when INFO was refused.
    public var evictionPolicy: String?
    /// Whether AOF is on; `nil` when INFO was refused.
    public var appendOnly: Bool?
    /// The RDB `save` rules (`""`: no snapshots); `nil` when CONFIG GET was refused.
    public var saveRules: String?
    /// The jobq script libraries loaded on this server other than this version's (`jobq_<digest>`,
    /// docs/scripts.md): left by earlier jobq versions, since a library persists with the data
    /// and nothing but `FUNCTION DELETE` removes it. `nil` when `FUNCTION LIST` was refused.
    public var otherScriptLibraries: [String]? = nil
    /// Set by `jobq doctor --repair` when the server refused `FUNCTION DELETE` (NOPERM: a user
    /// allowed `FUNCTION LIST` but not `FUNCTION DELETE`): the server's message. The libraries
    /// stay (harmless); the rest of the repair is done and reported.
    public var scriptLibraryDeleteRefused: String? = nil

    public init(evictionPolicy: String?, appendOnly: Bool?, saveRules: String?) {
        self.evictionPolicy = evictionPolicy
        self.appendOnly = appendOnly
        self.saveRules = saveRules
    }

    /// One finding: a stable code and a message that says what to do.
    public struct Finding: Sendable, Hashable {
        /// `eviction` | `no_persistence` (warnings); `eviction_unknown` | `persistence_unknown` |
        /// `other_script_libraries` | `script_libraries_not_deleted` (notes); doctor's
        /// namespace notes: `limit_recount_skipped` | `legacy_limit_records` (``LimitCountCheck``).
        public let code: String
        public let message: String
    }

    /// What makes this server unsafe for jobq: an evicting policy, no persistence at all.
    public var warnings: [Finding] {
        var found: [Finding] = []
        if let evictionPolicy, evictionPolicy != "noeviction" {
            found.append(Finding(
                code: "eviction",
                message: "Redis maxmemory-policy is \(evictionPolicy): when memory fills up Redis deletes keys, task records and indexes included, silently — set maxmemory-policy noeviction (jobq then gets OOM errors instead, and says so)"
            ))
        }
        if appendOnly == false, let saveRules, saveRules.allSatisfy({ $0 == " " || $0 == "\"" }) {
            found.append(Finding(
                code: "no_persistence",
                message: "Redis has no persistence (appendonly no, no save rules): a Redis restart loses every task — set appendonly yes (appendfsync everysec), see docs/guarantees.md"
            ))
        }
        return found
    }

    /// What could not be checked (the user may not read INFO or CONFIG), and what is worth
    /// knowing but harmless (other jobq versions' script libraries).
    public var notes: [Finding] {
        var found: [Finding] = []
        if let others = otherScriptLibraries, !others.isEmpty {
            found.append(Finding(
                code: "other_script_libraries",
                message: "\(others.count) script librar\(others.count == 1 ? "y" : "ies") of other jobq versions \(others.count == 1 ? "is" : "are") loaded (\(others.joined(separator: ", "))): left by earlier versions, harmless; `jobq doctor --repair` deletes them (a worker of such a version still running loads its own again on its next call)"
            ))
        }
        if let refused = scriptLibraryDeleteRefused {
            found.append(Finding(
                code: "script_libraries_not_deleted",
                message: "the script libraries of other jobq versions were not deleted: this Redis user may not run FUNCTION DELETE (NOPERM: \(refused)); harmless — grant it +function|delete, or run `jobq doctor --repair` as a user that has it"
            ))
        }
        if evictionPolicy == nil {
            found.append(Finding(code: "eviction_unknown", message: "could not read maxmemory-policy (INFO refused); make sure it is noeviction"))
        }
        if appendOnly == nil || (appendOnly == false && saveRules == nil) {
            found.append(Finding(
                code: "persistence_unknown",
                message: "AOF is off and the RDB save rules could not be read (CONFIG GET refused: normal for a least-privilege user); make sure Redis persists its data"
            ))
        }
        return found
    }

    /// Whether nothing unsafe was found.
    public var isSafe: Bool { warnings.isEmpty }

    /// Throws `unsafe_redis` listing the warnings, if there are any (`--strict`).
    public func requireSafe() throws(JobqError) {
        guard !warnings.isEmpty else { return }
        throw JobqError(.unsafeRedis, "refusing to run on this Redis (--strict): " + warnings.map(\.message).joined(separator: "; "))
    }
}
