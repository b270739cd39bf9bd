/// What ``JobqClient/diagnose()`` found in a namespace and, after
/// ``Coordinator/repair(_:)``, what was done about it.
///
/// Each problem was confirmed by the doctor script (`Scripts/doctor.lua`, mode `check`), so it
/// held at that moment; a repair checks it again before writing.
public struct DoctorReport: Sendable, Hashable {
    /// One inconsistency between a task record and the indexes (or a record that cannot be used).
    public struct Problem: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable, CaseIterable {
            /// Unknown or missing state, or a PENDING/RUNNING record without a usable spec or payload.
            case corruptRecord = "corrupt_record"
            /// RUNNING, but not in the `leases` index or without a lease: no reaper would find it.
            case runningWithoutLease = "running_without_lease"
            /// PENDING with a `success` prerequisite that ended FAILED or CANCELLED: it should have
            /// been cancelled with it.
            case dependencyFailed = "dependency_failed"
            /// PENDING with a `deps_left` counter that disagrees with its prerequisites' states.
            case wrongDepsLeft = "wrong_deps_left"
            /// PENDING with nothing left to wait for, yet in no ready list and not delayed: stranded.
            case stranded
            /// PENDING with prerequisites left, but missing from the `waiting` index.
            case notWaiting = "not_waiting"
            /// An entry of `leases` whose task is gone or not RUNNING.
            case staleLeaseEntry = "stale_lease_entry"
            /// An entry of `waiting`, `delayed` or `s:<STATE>` whose task is gone or in another state.
            case staleIndexEntry = "stale_index_entry"
            /// An id in a ready list whose task is gone or not PENDING. Expected after a cancel of a
            /// queued task (claim drops such ids), so harmless; repaired all the same.
            case staleReadyEntry = "stale_ready_entry"

            /// Whether it is expected in a healthy namespace (the next claim deals with it).
            public var isHarmless: Bool { self == .staleReadyEntry }
        }

        public let kind: Kind
        public let task: String
        /// The index or list concerned (`leases`, `q:default`, `s:DONE`…), when there is one.
        public let location: String?
        /// What the repair does, as the script put it (e.g. `set deps_left 2 -> 0; dispatch to q:default`).
        public let fix: String
        /// After a repair: what was done, `ok` when a concurrent change had already made it
        /// consistent; `nil` before.
        public var outcome: String?
        /// The doctor script's action and location argument that repair this problem.
        let action: DoctorItem.Action
        let argument: String?

        init(kind: Kind, task: String, location: String?, fix: String, action: DoctorItem.Action, argument: String?) {
            self.kind = kind
            self.task = task
            self.location = location
            self.fix = fix
            self.action = action
            self.argument = argument
        }
    }

    /// Task records read.
    public var tasksScanned: Int
    public var problems: [Problem]
    /// The concurrency-limit counts, recomputed from the RUNNING tasks, and old-format records.
    public var limits: LimitCountCheck

    public init(tasksScanned: Int, problems: [Problem], limits: LimitCountCheck = .empty) {
        self.tasksScanned = tasksScanned
        self.problems = problems
        self.limits = limits
    }

    /// Nothing found (notes aside).
    public var isConsistent: Bool { problems.isEmpty && limits.problems.isEmpty && limits.legacyKeys == 0 }

    /// Problems that matter (not ``Problem/Kind/isHarmless``) and were not repaired.
    public var unresolved: [Problem] { problems.filter { !$0.kind.isHarmless && $0.outcome == nil } }

    /// Everything that matters and was not repaired: ``unresolved`` tasks, limit-count problems,
    /// old-format limit records left (``LimitCountCheck/unresolved``).
    public var unresolvedCount: Int { unresolved.count + limits.unresolved }
}
