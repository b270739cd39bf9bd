import JobqCore
import JobqRedis

/// The producer API: submit tasks and workflows, inspect, wait, cancel, retry.
///
/// `Sendable` and cheap to copy; share one per process. Every state change goes through one
/// atomic Lua script (see ``Coordinator``).
public struct JobqClient: Sendable {
    public let coordinator: Coordinator
    public var redis: RedisClient { coordinator.redis }

    /// The URL used when neither `--redis` nor `JOBQ_REDIS_URL` says otherwise.
    public static let defaultURL = "redis://127.0.0.1:6379"

    public init(coordinator: Coordinator) {
        self.coordinator = coordinator
    }

    /// Connects (lazily) to `url` and uses `namespace`.
    public init(url: String = JobqClient.defaultURL, namespace: String = "default", limits: Limits = Limits()) throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: url))
        self.coordinator = try Coordinator(redis: redis, namespace: namespace, limits: limits)
    }

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
        let result = try await coordinator.submit([spec], idempotencyKey: idempotencyKey)
        guard let task = result.tasks.first else { throw JobqError(.internalError, "submit returned no task") }
        return task
    }

    /// Submits a whole workflow atomically: every task or none.
    @discardableResult
    public func submit(_ workflow: Workflow, idempotencyKey: String? = nil) async throws(JobqError) -> SubmitResult {
        _ = try workflow.topologicalOrder()
        return try await coordinator.submit(workflow.tasks, workflow: workflow.id, idempotencyKey: idempotencyKey)
    }

    // MARK: Inspecting

    /// The task's record. Throws `not_found`.
    public func status(_ id: String) async throws(JobqError) -> TaskInfo {
        guard let info = try await coordinator.task(id) else {
            throw JobqError(.notFound, "no task \(id) (never submitted, or its retention expired)", subject: id)
        }
        return info
    }

    /// The result of a DONE task, decoded. Throws `invalid_state` if it has not succeeded.
    public func result<R: Decodable>(of id: String, as type: R.Type = R.self) async throws(JobqError) -> R {
        let info = try await status(id)
        guard info.state == .done else {
            throw JobqError(.invalidState, "task \(id) is \(info.state?.rawValue ?? "unknown"), not DONE\(info.error.map { ": \($0)" } ?? "")", subject: id)
        }
        return try PayloadCoding.decode(R.self, from: info.result ?? [])
    }

    /// Tasks filtered by state, queue and workflow (newest state changes last).
    public func list(state: TaskState? = nil, queue: String? = nil, workflow: String? = nil, limit: Int = 100) async throws(JobqError) -> [TaskInfo] {
        var ids: [String]
        if let workflow {
            ids = try await coordinator.taskIDs(inWorkflow: workflow)
        } else if let state {
            ids = try await coordinator.taskIDs(in: state, limit: max(limit, 1) * (queue == nil ? 2 : 10))
        } else {
            ids = []
            for state in TaskState.allCases {
                ids += try await coordinator.taskIDs(in: state, limit: max(limit, 1))
            }
        }
        var infos = try await coordinator.tasks(ids).compactMap { $0 }
        if let state { infos = infos.filter { $0.state == state } }
        if let queue { infos = infos.filter { $0.queue == queue } }
        return Array(infos.prefix(limit))
    }

    /// Counts per state of a workflow ("2D + 3R + 4P"). Throws `not_found`.
    public func summary(workflow: String) async throws(JobqError) -> WorkflowSummary {
        guard let summary = try await coordinator.summary(workflow: workflow) else {
            throw JobqError(.notFound, "no workflow \(workflow)", subject: workflow)
        }
        return summary
    }

    // MARK: Acting

    /// Cancels a task: at once when pending, through its worker when running.
    @discardableResult
    public func cancel(_ id: String) async throws(JobqError) -> Coordinator.CancelOutcome {
        try await coordinator.cancel(task: id)
    }

    /// Cancels every unfinished task of a workflow.
    @discardableResult
    public func cancel(workflow: String) async throws(JobqError) -> (cancelled: Int, requested: Int) {
        try await coordinator.cancel(workflow: workflow)
    }

    /// Re-opens a FAILED or CANCELLED task and the dependents it took down.
    @discardableResult
    public func retry(_ id: String) async throws(JobqError) -> [String] {
        try await coordinator.retry(task: id)
    }
}
