/// A task a worker holds under a lease: what the claim script hands out.
public struct ClaimedTask: Sendable, Hashable {
    public let id: String
    public let handler: String
    public let queue: String
    public let payload: [UInt8]
    /// 1 for the first run.
    public let attempt: Int
    public let maxAttempts: Int
    /// The proof of ownership every later write must carry.
    public let lease: TaskLease
    public let timeout: Duration
    /// Lease deadline, Redis time in milliseconds.
    public let leaseDeadline: Int64
    public let workflow: String?
    /// How long to wait before the next attempt if this one fails.
    public let backoff: RetryBackoff
    public let title: String
    /// The prerequisites' outcomes and results (jobcontrol's `!retval`).
    public let prerequisites: [PrerequisiteOutcome]
    /// Earlier runs lost with their worker (it died or stopped heartbeating). Those are not
    /// counted in `attempt` unless the task ran alone, so a re-run after a crash may carry the
    /// same attempt number: this tells it from a first run.
    public internal(set) var workerDeaths: Int = 0
    /// The last checkpoint (JSON) a handler saved for this task, in this attempt's predecessors
    /// (`nil` when none): where a retried long job resumes.
    public internal(set) var checkpoint: [UInt8]? = nil
    /// The signals (and answers) the task keeps, as one JSON object name → payload (`nil` when
    /// none): what `waitForSignal` and `ask` find when the handler is invoked again.
    public internal(set) var signals: [UInt8]? = nil
    /// The trace context its producer stored (`traceparent`/`tracestate` with a W3C tracer;
    /// empty when it was submitted outside a traced context): the worker's tracing instrument
    /// extracts it, so the run's span continues the producer's trace.
    public internal(set) var traceHeaders: [String: String] = [:]
}

/// A prerequisite's state and result, as its dependent sees them when it starts.
public struct PrerequisiteOutcome: Sendable, Hashable {
    public let id: String
    /// `nil` when the record has expired.
    public let state: TaskState?
    /// The result bytes (JSON), empty when there is none.
    public let result: [UInt8]
}

/// A task id with the fencing token of one claim.
public struct TaskLease: Sendable, Hashable {
    public let id: String
    public let token: Int

    public init(id: String, token: Int) {
        self.id = id
        self.token = token
    }
}
