import Jobq
import JobqCore

/// Spawning children: a running handler adds a sub-graph (a ``Workflow``, edges and all) as a
/// child run, then either returns (chord style: the task ends with the run, its result the run's
/// `output` task, the join) or waits for it without holding its slot and is invoked again, from
/// its start, with the children's results (docs/worker.md, "Spawning children").
///
/// The run's id is derived from the task and the spawn's `key`, and the spawn is fenced by the
/// task's lease (only the attempt holding it spawns; the run and the task are linked in the same
/// script call), so a retried or re-invoked parent that spawns the same key again attaches to the
/// run that exists, finished children and all, and never duplicates it; and a task can never end
/// before a child it spawned is counted.
///
/// ```swift
/// var children = Workflow("thumbnails")
/// for (index, file) in files.enumerated() {
///     try children.add("thumb-\(index)", handler: "image.thumbnail", payload: ["file": file])
/// }
/// try await context.spawn(children)        // attaches when an earlier invocation spawned it
/// try await context.waitForChildren()      // throws: the task waits, then runs again from the top
/// let results = try await context.childResults()
/// return results.compactMap { $0.result }.count
/// ```
extension HandlerContext {
    /// The key a spawn uses unless given another.
    public static let defaultSpawnKey = "children"

    /// Spawns `workflow` as a child run of this task under `key` and returns it: created, or the
    /// run an earlier attempt or invocation of this task spawned under `key` (attached; its
    /// state says whether it ended). `output`: the child task whose result becomes this task's
    /// when the handler returns without waiting (chord style). `onChildFailure`: when this task
    /// waits (``waitForChildren(key:)``) and the run does not end DONE, end this task FAILED
    /// (`child_failed`) or invoke it again to clean up.
    ///
    /// A task waits for one spawned run at a time: another key's run still open refuses the
    /// spawn (`invalid_state`). Re-spawning a key with a different number of tasks is refused
    /// (`idempotency_conflict`): the run of a key is fixed once spawned.
    ///
    /// - Throws: `stale_token` when this attempt no longer holds the lease, `invalid_state` when
    ///   the task is not running (cancelled, ended) or from a batch handler, `too_many_tasks` over
    ///   ``Limits/spawnMaxTasks``, `cycle` / `unknown_dependency` for a bad graph (nothing is written).
    @discardableResult
    public func spawn(
        _ workflow: Workflow, key: String = HandlerContext.defaultSpawnKey, output: String? = nil,
        onChildFailure: ChildFailurePolicy = .failParent
    ) async throws(JobqError) -> SpawnedRun {
        try Validation.check(name: key, as: .taskID)
        guard !workflow.tasks.isEmpty else { throw JobqError(.invalidOption, "nothing to spawn: the workflow has no tasks") }
        guard workflow.tasks.count <= Limits.spawnMaxTasks else {
            throw JobqError(.tooManyTasks, "a spawn of \(workflow.tasks.count) tasks; at most \(Limits.spawnMaxTasks) per spawn — spawn under several keys, or map", subject: taskID)
        }
        let request = try ChildRunRequest(
            definition: workflow.name, tasks: workflow.tasks, window: workflow.window, failFast: workflow.failFast,
            critical: workflow.critical, output: output
        )
        return try await spawn(request, key: key, onChildFailure: onChildFailure)
    }

    /// ``spawn(_:key:output:onChildFailure:)`` of a definition already in its travelling form
    /// (a command handler's `JOBQ_SPAWN`).
    func spawn(_ request: ChildRunRequest, key: String, onChildFailure: ChildFailurePolicy) async throws(JobqError) -> SpawnedRun {
        guard !inBatch else {
            throw JobqError(.invalidState, "task \(taskID) runs in a batch: a batch handler cannot spawn children (one outcome per task, no wait); register a plain handler", subject: taskID)
        }
        do {
            return try await store.spawnChildRun(request, lease: run.claimed.lease, key: key, policy: onChildFailure)
        } catch where error.code == .staleToken || error.code == .invalidState || error.code == .notFound {
            throw JobqError(error.code == .staleToken ? .staleToken : .invalidState,
                            "task \(taskID) cannot spawn children: this attempt no longer holds its lease, or the task is not running (it ended, was cancelled, or has another spawned run open)",
                            subject: taskID)
        }
    }

    /// Waits for the run spawned under `key`: returns at once when it has ended (this is the
    /// invocation after it); otherwise this throws, the task waits in no queue holding no slot
    /// (its attempt refunded), and the handler is invoked again from its start when the run
    /// ends — there, `spawn` attaches to the finished run and this returns.
    ///
    /// - Throws: `not_found` when nothing was spawned under `key`.
    public func waitForChildren(key: String = HandlerContext.defaultSpawnKey) async throws {
        let id = ChildRunRequest.childRunID(parent: taskID, key: key)
        guard let child = try await store.childRun(id) else {
            throw JobqError(.notFound, "task \(taskID) spawned no children under the key \(key)", subject: id)
        }
        if child.state.isTerminal {
            run.markChildrenRead() // its own result stands: it does not end with the run
            return
        }
        throw HandlerError(kind: .wait, reason: "waiting_children", message: "waits for its child run \(id)", waitsForChildren: true)
    }

    /// The run spawned under `key`: its state and counts per state; `nil` when there is none.
    public func children(key: String = HandlerContext.defaultSpawnKey) async throws(JobqError) -> RunInfo? {
        try await store.childRun(ChildRunRequest.childRunID(parent: taskID, key: key))
    }

    /// The children spawned under `key`, in submission order, with their states and results;
    /// read in pages of `pageSize` (never one unbounded reply). Empty when nothing was spawned.
    public func childResults(key: String = HandlerContext.defaultSpawnKey, pageSize: Int = 500) async throws(JobqError) -> [ChildResult] {
        let id = ChildRunRequest.childRunID(parent: taskID, key: key)
        var results: [ChildResult] = []
        var cursor: WorkflowPageCursor?
        repeat {
            let page = try await store.childResults(run: id, after: cursor, limit: pageSize)
            results += page.results
            cursor = page.next
        } while cursor != nil
        return results
    }

    /// ``childResults(key:pageSize:)`` by child key.
    public func childResultsByKey(key: String = HandlerContext.defaultSpawnKey) async throws(JobqError) -> [String: ChildResult] {
        Dictionary(try await childResults(key: key).map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
