/// What a parent that waits for the children it spawned (``ChildRunRequest``, spawned by
/// `HandlerContext.spawn`) gets when their run does not end DONE.
public enum ChildFailurePolicy: String, Sendable, Hashable, CaseIterable, Codable {
    /// The parent ends FAILED (reason `child_failed`) as soon as the run ends, as a sub-workflow
    /// task does; spawn a `failFast` workflow to end the run, and so the parent, at the first
    /// child that fails for good.
    case failParent = "fail_parent"
    /// The parent is invoked again whatever the run's end, to read the results and clean up.
    case wakeParent = "wake_parent"
}

/// A spawn's fence: the parent's lease and its policy, carried by the child run's submission
/// (run option `spawned_by`, `PARENT TOKEN POLICY WIDTH`). submit.lua checks it before it writes
/// anything, so only the attempt holding the lease spawns, and links the run and the parent in
/// the same call (docs/worker.md, "Spawning children").
package struct SpawnFence: Sendable, Hashable {
    package var parent: TaskLease
    package var policy: ChildFailurePolicy
    /// How many tasks the whole spawn has: a re-spawn attaches only to a run of that width (a
    /// big spawn goes in several submit calls, and the first holds only some of its tasks).
    package var width: Int

    package init(parent: TaskLease, policy: ChildFailurePolicy, width: Int) {
        self.parent = parent
        self.policy = policy
        self.width = width
    }

    package var scriptArgument: String { "\(parent.id) \(parent.token) \(policy.rawValue) \(width)" }
}

/// A child run a handler spawned (or attached to, when a retried or re-invoked parent spawned
/// the same key again).
public struct SpawnedRun: Sendable, Hashable {
    /// The run's id, derived from the parent task and the spawn's key.
    public var id: String
    /// Whether this spawn created it (`false`: an earlier attempt did; attached).
    public var created: Bool
    /// Its state now; a run that has ended is not waited for again: its results are there.
    public var state: RunState

    public init(id: String, created: Bool, state: RunState) {
        self.id = id
        self.created = created
        self.state = state
    }
}

/// How the CLI says what a task waits for in its child run: "waiting for 1000 children of run
/// X (250 done)" (`jobq status`, `watch`, `show`; `children` in `--json`).
package enum ChildrenText {
    package static func waiting(_ run: RunInfo) -> String {
        let done = run.counts.filter { $0.key.isTerminal }.map(\.value).reduce(0, +)
        return "waiting for \(run.total) \(run.total == 1 ? "child" : "children") of run \(run.id) (\(done) done)"
    }

    /// `{"run", "state", "total", "done"}` for `--json`.
    package static func json(_ run: RunInfo) -> JSONValue {
        let done = run.counts.filter { $0.key.isTerminal }.map(\.value).reduce(0, +)
        return .object([("run", .string(run.id)), ("state", .string(run.state.rawValue)), ("total", .int(run.total)), ("done", .int(done))])
    }
}

/// One spawned child as the re-invoked parent reads it: its key in the child run, its state and
/// its result (JSON; `nil` unless DONE or SKIPPED with one).
public struct ChildResult: Sendable, Hashable {
    public var key: String
    public var state: TaskState?
    public var result: [UInt8]?
    /// Why it ended so (`child_failed`, `cancelled`, …), when it did not succeed.
    public var reason: String?

    public init(key: String, state: TaskState?, result: [UInt8]?, reason: String?) {
        self.key = key
        self.state = state
        self.result = result
        self.reason = reason
    }
}
