import JobqCore
import JobqRedis

/// The producer and operator API: submit tasks and workflows, inspect, wait, cancel, retry, and
/// look after queues — the one public type a program that is not a worker needs.
///
/// `Sendable` and cheap to copy; share one per process. Every state change goes through one
/// atomic Lua script; reads are plain pipelined commands.
public struct JobqClient: Sendable {
    /// The engine's roles (task store, lease store, maintenance, inspector): not API.
    package let engine: Coordinator

    /// The URL used when neither `--redis` nor `JOBQ_REDIS_URL` says otherwise.
    public static let defaultURL = "redis://127.0.0.1:6379"

    package init(engine: Coordinator) {
        self.engine = engine
    }

    /// Connects (lazily) to `url` (`redis://[user:password@]host[:port][/db]` or
    /// `unix:///path/redis.sock`) and uses `namespace`.
    public init(url: String = JobqClient.defaultURL, namespace: String = "default", limits: Limits = Limits()) throws(JobqError) {
        let configuration: RedisConfiguration
        do {
            configuration = try RedisConfiguration(url: url)
        } catch {
            throw JobqError(.invalidOption, "Redis URL \(url): \(error)")
        }
        try self.init(configuration: configuration, namespace: namespace, limits: limits)
    }

    /// Connects (lazily) with a full Redis configuration (password, timeouts, …).
    public init(configuration: RedisConfiguration, namespace: String = "default", limits: Limits = Limits()) throws(JobqError) {
        engine = try Coordinator(redis: RedisClient(configuration: configuration), namespace: namespace, limits: limits)
    }

    /// Closes the connections to Redis; commands sent afterwards reconnect.
    public func close() async {
        await engine.redis.close()
    }

    /// The namespace this client works in.
    public var namespace: String { engine.keys.namespace }

    /// Code written against 0.1 reached the engine as `client.coordinator.submit(…)`; the client
    /// itself now has every producer method, so this is the client.
    @available(*, deprecated, message: "call the method on JobqClient itself")
    public var coordinator: JobqClient { self }

    /// The key names of this client's namespace. Kept for code written against 0.1 that read
    /// task records itself (`../shared/peer-bench`'s producer polls `HGET t:<id> state` with it,
    /// as its observer); new code asks the client (`status`, `wait`, `follow`).
    @available(*, deprecated, message: "read tasks with status(of:), wait(for:) or follow(...)")
    public var keys: Keyspace { engine.keys }

    /// The Redis connection the client uses, for the same 0.1 code (`peer-bench` connects it
    /// before its clock starts and polls through it). Commands sent here bypass jobq's scripts:
    /// never write a jobq key with it.
    @available(*, deprecated, message: "use the client's methods; raw Redis access bypasses jobq's scripts")
    public var redis: RedisClient { engine.redis }

    // MARK: Submitting

    /// Submits one task; `payload` is encoded as JSON.
    @discardableResult
    public func submit(
        _ handler: String, payload: some Encodable & Sendable = JSONNull(), queue: String = TaskSpec.defaultQueue,
        after prerequisites: [String] = [], maxAttempts: Int = TaskSpec.defaultMaxAttempts,
        timeout: Duration = TaskSpec.defaultTimeout, delay: Duration = .zero, idempotencyKey: String? = nil
    ) async throws(JobqError) -> SubmittedTask {
        let spec = TaskSpec(
            handler: handler, queue: queue, payload: try PayloadCoding.encode(payload),
            prerequisites: prerequisites.map { Prerequisite($0) }, maxAttempts: maxAttempts, timeout: timeout, delay: delay
        )
        return try await submit(spec, idempotencyKey: idempotencyKey)
    }

    /// Submits one fully specified task.
    @discardableResult
    public func submit(_ spec: TaskSpec, idempotencyKey: String? = nil) async throws(JobqError) -> SubmittedTask {
        let result = try await submit([spec], idempotencyKey: idempotencyKey)
        guard let task = result.tasks.first else { throw JobqError(.internalError, "submit returned no task") }
        return task
    }

    /// Submits tasks atomically (all or none), in one script call; prerequisites may name tasks
    /// of this batch or existing ones.
    ///
    /// - Parameters:
    ///   - workflow: groups the tasks for status, watch and cancel.
    ///   - idempotencyKey: a repeated submission with the same key and content returns the first
    ///     one's ids with `created == false`; the same key with other content is a conflict.
    ///
    /// Traced: a `.producer` span `jobq.submit` whose context is stored with each task, so that
    /// the worker's span for it continues the caller's trace (docs/operations.md, "Tracing").
    /// - Throws: ``JobqError`` with a stable code; nothing is written.
    @discardableResult
    public func submit(_ tasks: [TaskSpec], workflow: String? = nil, idempotencyKey: String? = nil) async throws(JobqError) -> SubmitResult {
        try await tracedSubmit(taskCount: tasks.count, workflow: workflow, { headers throws(JobqError) in
            try await engine.tasks.submit(tasks, workflow: workflow, idempotencyKey: idempotencyKey, trace: headers)
        }, ids: { $0.tasks.map(\.id) })
    }

    /// Starts a run of a workflow definition, atomically: every task or none.
    ///
    /// - Parameters:
    ///   - run: the run's id; generated from the workflow's name when `nil` (`nightly-01J…`).
    ///     An id that exists is refused (`run_exists`).
    ///   - idempotencyKey: a repeat with the same key and definition returns the first run
    ///     (``WorkflowRun/created`` is `false`), whether or not its id was generated.
    @discardableResult
    public func submit(_ workflow: Workflow, run: String? = nil, idempotencyKey: String? = nil) async throws(JobqError) -> WorkflowRun {
        _ = try workflow.topologicalOrder()
        return try await submit(workflow.tasks, run: workflow.runOptions(id: run), idempotencyKey: idempotencyKey)
    }

    /// Starts a run of `tasks` (their ids are keys within it; prerequisites naming a key of the
    /// batch resolve within the run), atomically.
    @discardableResult
    public func submit(_ tasks: [TaskSpec], run: RunOptions, idempotencyKey: String? = nil) async throws(JobqError) -> WorkflowRun {
        let result = try await tracedSubmit(taskCount: tasks.count, workflow: run.id, { headers throws(JobqError) in
            try await engine.tasks.submit(tasks, run: run, idempotencyKey: idempotencyKey, trace: headers)
        }, ids: { $0.tasks.map(\.id) })
        guard let id = result.run else { throw JobqError(.internalError, "submit of a run returned no run id") }
        return WorkflowRun(client: self, id: id, created: result.created, tasks: result.tasks)
    }

    // MARK: Inspecting tasks

    /// The task's record. Throws `not_found`.
    public func status(_ id: String) async throws(JobqError) -> TaskInfo {
        guard let info = try await task(id) else {
            throw JobqError(.notFound, "no task \(id) (never submitted, or its retention expired)", subject: id)
        }
        return info
    }

    /// The task's record, or `nil` when there is none (never existed, or retention expired).
    public func task(_ id: String) async throws(JobqError) -> TaskInfo? {
        try await engine.tasks.task(id)
    }

    /// Task records for `ids`, in order (`nil` for missing ones), in one round trip.
    public func tasks(_ ids: [String]) async throws(JobqError) -> [TaskInfo?] {
        try await engine.tasks.tasks(ids)
    }

    /// Just the states of `ids` (`nil` for missing ones), in one round trip.
    public func states(of ids: [String]) async throws(JobqError) -> [TaskState?] {
        try await engine.tasks.taskStates(ids)
    }

    /// The result of a DONE (or SKIPPED: the skip's result, `null` when none) task, decoded.
    /// Throws `invalid_state` if it has not ended so.
    public func result<R: Decodable>(of id: String, as type: R.Type = R.self) async throws(JobqError) -> R {
        let info = try await status(id)
        guard info.state?.isSuccessLike == true else {
            throw JobqError(.invalidState, "task \(id) is \(info.state?.rawValue ?? "unknown"), not DONE\(info.error.map { ": \($0)" } ?? "")", subject: id)
        }
        // a mapped task's result is its children's results, read in pages (``MappedResult``)
        return try PayloadCoding.decode(R.self, from: try await engine.tasks.expandMapped(info.result ?? []))
    }

    /// Tasks filtered by state, queue and workflow (newest state changes last).
    public func list(state: TaskState? = nil, queue: String? = nil, workflow: String? = nil, limit: Int = 100) async throws(JobqError) -> [TaskInfo] {
        let store = engine.tasks
        var ids: [String]
        if let workflow {
            ids = try await store.taskIDs(inWorkflow: workflow)
        } else if let state {
            ids = try await store.taskIDs(in: state, limit: max(limit, 1) * (queue == nil ? 2 : 10))
        } else {
            ids = []
            for state in TaskState.allCases {
                ids += try await store.taskIDs(in: state, limit: max(limit, 1))
            }
        }
        var infos = try await store.tasks(ids).compactMap { $0 }
        if let state { infos = infos.filter { $0.state == state } }
        if let queue { infos = infos.filter { $0.queue == queue } }
        return Array(infos.prefix(limit))
    }

    /// Ids of tasks in `state`, at most `limit` (PENDING ones may include stale queue entries:
    /// read the records for the exact state).
    public func taskIDs(in state: TaskState, limit: Int = 100) async throws(JobqError) -> [String] {
        try await engine.tasks.taskIDs(in: state, limit: limit)
    }

    /// A workflow's task ids in submission order (empty for an unknown workflow).
    public func taskIDs(inWorkflow workflow: String) async throws(JobqError) -> [String] {
        try await engine.tasks.taskIDs(inWorkflow: workflow)
    }

    /// Every id of finished tasks still kept in a terminal state.
    public func finishedTaskIDs(in state: TaskState) async throws(JobqError) -> [String] {
        try await engine.inspector.finishedTaskIDs(in: state)
    }

    /// Counts per state of a workflow ("2D + 3R + 4P"). Throws `not_found`.
    public func summary(workflow: String) async throws(JobqError) -> WorkflowSummary {
        guard let summary = try await engine.tasks.summary(workflow: workflow) else {
            throw JobqError(.notFound, "no workflow \(workflow)", subject: workflow)
        }
        return summary
    }

    /// Whether a workflow with this id has tasks.
    public func workflowExists(_ workflow: String) async throws(JobqError) -> Bool {
        try await engine.tasks.workflowExists(workflow)
    }

    /// A running task's progress entries, sorted by group path.
    public func progress(of id: String) async throws(JobqError) -> [ProgressEntry] {
        try await engine.tasks.progress(of: id)
    }

    /// A task's attempt history, oldest first: one entry per ended attempt (worker, start, end,
    /// outcome, error), the first and the last ``TaskAttempt/keptAfterFirst`` kept. A read of its
    /// own, so that reading many task records never fetches histories.
    public func attempts(of id: String) async throws(JobqError) -> AttemptHistory {
        try await engine.tasks.attempts(of: id)
    }

    /// The histories of `ids`, in order, in one round trip.
    public func attempts(of ids: [String]) async throws(JobqError) -> [AttemptHistory] {
        for id in ids { try Validation.check(taskID: id) }
        return try await engine.tasks.attempts(of: ids)
    }

    /// How many entries each of `ids` has stored in its attempt history, in one round trip: the
    /// attempt that made a task DONE is not among them (``attempts(of:)`` adds it from the
    /// record), so a DONE task with any stored entry had an earlier attempt end otherwise.
    public func attemptCounts(of ids: [String]) async throws(JobqError) -> [Int] {
        for id in ids { try Validation.check(taskID: id) }
        return try await engine.tasks.attemptCounts(of: ids)
    }

    /// One page of a workflow's task ids in submission order, after `cursor` (`nil`: from the
    /// start), at most `limit`; the returned cursor continues it (`nil` at the end). For
    /// workflows too large to read in one reply.
    public func taskIDs(inWorkflow workflow: String, after cursor: WorkflowPageCursor?, limit: Int) async throws(JobqError) -> (ids: [String], next: WorkflowPageCursor?) {
        try await engine.tasks.taskIDs(inWorkflow: workflow, after: cursor, limit: limit)
    }

    /// Up to `limit` of the tasks that depend on `id` (with the policy of each edge) and how
    /// many there are, in one round trip.
    public func dependents(of id: String, limit: Int = 100) async throws(JobqError) -> (dependents: [Prerequisite], total: Int) {
        try await engine.tasks.dependents(of: id, limit: limit)
    }

    /// A task's log lines from line `start` on (0-based; the newest 1,000 are kept).
    public func logs(of id: String, from start: Int = 0) async throws(JobqError) -> [String] {
        try await engine.tasks.logs(of: id, from: start)
    }

    // MARK: Acting on tasks

    /// Cancels a task: at once when pending, through its worker when running. `message` is
    /// recorded as the task's error; `actor` (who asked) as the `by` of its event lines.
    @discardableResult
    public func cancel(_ id: String, message: String = "cancelled by request", actor: String? = nil) async throws(JobqError) -> CancelOutcome {
        try await engine.tasks.cancel(task: id, message: message, actor: actor.flatMap(ActorName.clean))
    }

    /// Cancels every unfinished task of a workflow; `actor` (who asked) is the `by` of the
    /// event lines.
    @discardableResult
    public func cancel(workflow: String, message: String = "workflow cancelled by request", actor: String? = nil) async throws(JobqError) -> WorkflowCancellation {
        try await engine.tasks.cancel(workflow: workflow, message: message, actor: actor.flatMap(ActorName.clean))
    }

    /// Re-opens a FAILED or CANCELLED task and the dependents it took down. Returns the ids
    /// re-opened, `id` first. `actor` (who asked) is the `by` of the event lines.
    @discardableResult
    public func retry(_ id: String, actor: String? = nil) async throws(JobqError) -> [String] {
        try await engine.tasks.retry(task: id, actor: actor.flatMap(ActorName.clean))
    }
}
