import JobqCore

/// A handle on one run of a workflow: what ``JobqClient/submit(_:run:idempotencyKey:)`` returns.
///
/// ```swift
/// let run = try await client.submit(flow)
/// let info = try await run.wait(timeout: .seconds(60))   // RunInfo: state, counts, times
/// if info.state == .failed { try await run.retry() }
/// ```
public struct WorkflowRun: Sendable, Hashable {
    public let client: JobqClient
    /// The run's id: its tasks' ids are `id/KEY`.
    public let id: String
    /// `false` when an idempotency key returned an earlier run.
    public let created: Bool
    /// The tasks as submitted (full ids) and their states then.
    public let submitted: [SubmittedTask]

    package init(client: JobqClient, id: String, created: Bool, tasks: [SubmittedTask]) {
        self.client = client
        self.id = id
        self.created = created
        self.submitted = tasks
    }

    /// The full id of the run's task `key` (`RUN/key`).
    public func taskID(_ key: String) -> String { RunScope.id(run: id, key: key) }

    /// The run's record now.
    public func status() async throws(JobqError) -> RunInfo { try await client.run(id) }

    /// The run's tasks now, in submission order.
    public func tasks() async throws(JobqError) -> [TaskInfo] { try await client.tasks(ofRun: id) }

    /// Returns once the run has ended (DONE, FAILED or CANCELLED). Throws `timeout`.
    public func wait(timeout: Duration? = nil) async throws(JobqError) -> RunInfo {
        try await client.wait(forRun: id, timeout: timeout)
    }

    /// Cancels every unfinished task of the run; the run ends CANCELLED.
    @discardableResult
    public func cancel(message: String = "run cancelled by request") async throws(JobqError) -> WorkflowCancellation {
        try await client.cancel(workflow: id, message: message)
    }

    /// Re-opens every FAILED or CANCELLED task and what they took down; the run is RUNNING again.
    @discardableResult
    public func retry() async throws(JobqError) -> [String] { try await client.retry(run: id) }

    /// A new run of the same definition and inputs.
    public func rerun(as newID: String? = nil) async throws(JobqError) -> WorkflowRun { try await client.rerun(id, as: newID) }

    /// Re-runs, in place, only the run's OUTDATED tasks and what depends on them (`jobq rerun RUN
    /// --outdated`). Returns the ids re-opened.
    @discardableResult
    public func rerunOutdated() async throws(JobqError) -> [String] { try await client.rerunOutdated(run: id) }

    public static func == (lhs: WorkflowRun, rhs: WorkflowRun) -> Bool { lhs.id == rhs.id && lhs.client.namespace == rhs.client.namespace }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}
