/// What `jobq doctor` found about the concurrency-limit counts (`limit_counts`,
/// `limit_parked_keys`; docs/flow-control.md), and after a repair, what was done.
///
/// The counts are kept exact by the scripts alone; a RUNNING task's record deleted by hand, or
/// an upgrade from a version that kept them elsewhere (before 2026-12-07: a `limit:<key>` hash
/// per key, listed in `limits`), leaves them wrong. doctor recomputes them from the RUNNING
/// tasks in one script call (a snapshot), while that stays cheap: at most ``defaultCap``
/// RUNNING tasks, counted keys and parked keys.
public struct LimitCountCheck: Sendable, Hashable {
    /// The recount reads one record (two fields) per RUNNING task, one parked list per key, and
    /// answers a line per finding, in one script call: at 500 running tasks, 500 keys counted
    /// and 500 with parked tasks, every count wrong, it took 3.3–4.6 ms to check and 4.4–6.1 ms
    /// to repair on the shared test machine (1.7–2.4 ms when clean); at 1,000 up to 14 ms, over
    /// the 10 ms bar every script call keeps (DoctorLimitBoundTests; docs/cli.md).
    /// Above it doctor says so and changes no count.
    public static let defaultCap = 500
    /// Old-format keys migrated per script call (`--repair`); the Swift side loops.
    public static let legacyBatch = 500

    /// One concurrency key whose bookkeeping disagrees with its RUNNING tasks.
    public struct Problem: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable, CaseIterable {
            /// The stored RUNNING count differs from the RUNNING tasks that carry the key (or is
            /// garbled): too high, the key runs fewer than its limit for good; too low, more.
            case drift = "limit_count_drift"
            /// Parked tasks, but the key is missing from `limit_parked_keys`: no completion
            /// wakes them.
            case unindexed = "limit_parked_unindexed"
            /// A field of `limit_counts` or a member of `limit_parked_keys` for a key with
            /// nothing running or parked: harmless (only `jobq limits` shows it), dropped.
            case leftover = "limit_count_leftover"

            public var isHarmless: Bool { self == .leftover }
        }

        public let kind: Kind
        /// The concurrency key.
        public let key: String
        /// RUNNING as stored in `limit_counts` (0 without a field).
        public let stored: Int
        /// RUNNING recounted from the tasks.
        public let actual: Int
        /// The key's limit (stored, or a running or parked task's); `nil` when none says.
        public let limit: Int?
        /// Tasks on the key's parked list.
        public let parked: Int
        /// What the repair does (`set running 3 -> 2; wake up to 1 parked`).
        public let fix: String
        /// After a repair: what was done, `ok` when it was consistent by then; `nil` before.
        public var outcome: String?
    }

    /// Whether the recount ran (false: above ``cap``, nothing checked or changed).
    public var recounted: Bool
    /// RUNNING tasks (entries of `leases`), fields of `limit_counts`, members of
    /// `limit_parked_keys` at the check.
    public var runningTasks: Int
    public var countedKeys: Int
    public var parkedKeys: Int
    /// The bound the recount ran under.
    public var cap: Int
    public var problems: [Problem]
    /// Keys in the old format (the `limits` set) still to migrate; 0 when none.
    public var legacyKeys: Int
    /// After a repair: old-format keys migrated (and of them, with parked tasks re-indexed).
    public var legacyMigrated: Int?
    public var legacyIndexed: Int?

    public init(
        recounted: Bool, runningTasks: Int, countedKeys: Int, parkedKeys: Int, cap: Int,
        problems: [Problem] = [], legacyKeys: Int = 0, legacyMigrated: Int? = nil, legacyIndexed: Int? = nil
    ) {
        self.recounted = recounted
        self.runningTasks = runningTasks
        self.countedKeys = countedKeys
        self.parkedKeys = parkedKeys
        self.cap = cap
        self.problems = problems
        self.legacyKeys = legacyKeys
        self.legacyMigrated = legacyMigrated
        self.legacyIndexed = legacyIndexed
    }

    /// Nothing checked (a namespace read before any limit existed reports this too: all zero).
    public static let empty = LimitCountCheck(recounted: true, runningTasks: 0, countedKeys: 0, parkedKeys: 0, cap: defaultCap)

    /// Problems that matter and were not repaired, and old-format keys left.
    public var unresolved: Int {
        problems.filter { !$0.kind.isHarmless && $0.outcome == nil }.count + (legacyKeys - (legacyMigrated ?? 0) > 0 ? 1 : 0)
    }

    /// The notes: `limit_recount_skipped` (above the cap), `legacy_limit_records` (old format
    /// found, or after a repair migrated).
    public var notes: [ServerCheck.Finding] {
        var found: [ServerCheck.Finding] = []
        if !recounted {
            found.append(ServerCheck.Finding(
                code: "limit_recount_skipped",
                message: "concurrency-limit counts not recounted: \(runningTasks) task(s) running, \(countedKeys) key(s) counted, \(parkedKeys) with parked tasks; the recount runs in one script call only while each is at most \(cap) (run `jobq doctor` again when fewer run)"
            ))
        }
        if legacyKeys > 0 {
            if let migrated = legacyMigrated {
                found.append(ServerCheck.Finding(
                    code: "legacy_limit_records",
                    message: "migrated \(migrated) of \(legacyKeys) concurrency key(s) kept in the format before 2026-12-07 (limit:<key>, limits): \(legacyIndexed ?? 0) with parked tasks re-indexed, old records deleted"
                ))
            } else {
                found.append(ServerCheck.Finding(
                    code: "legacy_limit_records",
                    message: "\(legacyKeys) concurrency key(s) kept in the format before 2026-12-07 (limit:<key>, limits): their parked tasks are not woken by completions; `jobq doctor --repair` migrates them"
                ))
            }
        }
        return found
    }
}
