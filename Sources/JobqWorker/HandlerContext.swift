import Jobq
import JobqCore
import Logging
import Tracing

/// What a handler knows about the task it runs, and how it talks back: progress, logs,
/// prerequisites' results.
///
/// Cancellation arrives as Swift task cancellation: the handler's `Task` is cancelled when the
/// task is cancelled, times out, or the worker shuts down past its grace period
/// (``stopReason`` says which). Check `Task.isCancelled` or call `try Task.checkCancellation()`
/// in long loops; `Task.sleep` and most async APIs return early by themselves.
public struct HandlerContext: Sendable {
    let run: RunningTask
    /// Where checkpoints are saved (``checkpoint(_:)``), under the task's lease.
    let store: any TaskLeaseStore
    private let upstreamLogger: Logger
    /// A task of a batch (``BatchItem``): it may not spawn children (``spawn(_:key:output:onChildFailure:)``).
    var inBatch = false

    init(run: RunningTask, store: any TaskLeaseStore, payload: [UInt8], logger: Logger, workerID: String, serviceContext: ServiceContext = .topLevel) {
        self.run = run
        self.serviceContext = serviceContext
        self.store = store
        self.payload = payload
        self.upstreamLogger = logger
        self.workerID = workerID
    }

    private var claimed: ClaimedTask { run.claimed }
    /// Mapped prerequisites' results, expanded from their markers before the handler runs
    /// (``MappedResult``): `result(of:)` returns the children's results, not the marker.
    var mappedResults: [String: [UInt8]] = [:]

    /// The worker's own logger (lines not kept with the task).
    var workerLogger: Logger { upstreamLogger }

    /// The task's id.
    public var taskID: String { claimed.id }
    /// The handler name the task asked for.
    public var handlerName: String { claimed.handler }
    public var queue: String { claimed.queue }
    /// This run's number: 1 for the first, up to ``maxAttempts``.
    public var attempt: Int { claimed.attempt }

    /// Earlier runs of this task lost with their worker (a crash, a lost lease). A worker death
    /// is charged as an attempt only when the task ran alone, so `attempt` alone does not tell
    /// a re-run after a crash from a first run: `attempt > 1 || workerDeaths > 0` does.
    public var workerDeaths: Int { claimed.workerDeaths }
    public var maxAttempts: Int { claimed.maxAttempts }
    /// Whether a failure of this run would be final (no attempts left).
    public var isLastAttempt: Bool { claimed.attempt >= claimed.maxAttempts }
    /// The workflow (run, or label of standalone tasks) the task belongs to, if any.
    public var workflow: String? { claimed.workflow }
    /// The run the task belongs to (its id is `run/key`), if any.
    public var runID: String? { RunScope.run(of: claimed.id) }
    /// The task's key within its run (its id, for a standalone task).
    public var taskKey: String { RunScope.key(of: claimed.id) }
    /// The task's timeout for one run.
    public var timeout: Duration { run.deadline - run.started }
    /// When this run times out (the handler is cancelled then).
    public var deadline: ContinuousClock.Instant { run.deadline }
    /// The worker running the task.
    public let workerID: String
    /// The trace context of this run: its `.consumer` span `jobq.task <handler>`, a child of the
    /// producer's `jobq.submit` span when the task was submitted in a traced context. The handler
    /// runs with it bound as `ServiceContext.current`, so its own spans and its submissions nest
    /// under the task without passing it; hand it on explicitly across a detached task or
    /// another process. `.topLevel` with no tracer bootstrapped.
    public let serviceContext: ServiceContext
    /// The payload (JSON) the handler receives: as submitted, with `{"$retval": "id"}`
    /// references replaced by those prerequisites' results.
    public let payload: [UInt8]

    // MARK: Prerequisites (jobcontrol's `!retval`)

    /// The prerequisites' ids, states and raw results, as they were when this run started.
    public var prerequisites: [PrerequisiteOutcome] { claimed.prerequisites }

    /// Prerequisite `id`: its full id, or, for a task of a run, its key within the run
    /// (`result(of: "fetch")` works in every run of a definition).
    private func prerequisite(_ id: String) -> PrerequisiteOutcome? {
        let full = RunScope.resolve(id, within: runID)
        return claimed.prerequisites.first { $0.id == full } ?? claimed.prerequisites.first { $0.id == id }
    }

    /// The raw result (JSON) of prerequisite `id`; `nil` if it has none (not DONE, or expired).
    public func rawResult(of id: String) -> [UInt8]? {
        guard let outcome = prerequisite(id), !outcome.result.isEmpty else { return nil }
        return mappedResults[outcome.id] ?? outcome.result
    }

    /// The result of prerequisite `id`, decoded as `T`.
    ///
    /// - Throws: `not_found` when `id` is not a prerequisite of this task, `invalid_state` when it
    ///   has no result (it ended without succeeding under an `always` edge, or its record expired),
    ///   `invalid_payload` when the result does not decode as `T`.
    public func result<T: Decodable>(of id: String, as type: T.Type = T.self) throws(JobqError) -> T {
        guard let outcome = prerequisite(id) else {
            let known = claimed.prerequisites.map(\.id).joined(separator: ", ")
            throw JobqError(.notFound, "task \(taskID) has no prerequisite \(id) (its prerequisites: \(known.isEmpty ? "none" : known))", subject: id)
        }
        guard !outcome.result.isEmpty else {
            throw JobqError(.invalidState, "prerequisite \(id) has no result (state \(outcome.state?.rawValue ?? "expired"))", subject: id)
        }
        return try PayloadCoding.decode(T.self, from: mappedResults[outcome.id] ?? outcome.result)
    }

    // MARK: Progress

    /// Reports overall progress in percent, 0…100 (kofa's `percent`).
    public func progress(percent: Double, status: String = "") {
        let clamped = percent.isFinite ? min(max(percent, 0), 100) : 0
        run.reporter.add(progress: ProgressEntry(group: [], current: Int(clamped.rounded()), total: 100, status: status))
    }

    /// Reports progress of a named group (jobcontrol's `report_progress(group, current, total,
    /// status_line)`); `group` is the path from the root, `[]` for the task as a whole.
    public func progress(_ group: [String] = [], current: Int, total: Int, status: String = "") {
        run.reporter.add(progress: ProgressEntry(group: group, current: current, total: total, status: status))
    }

    /// Reports one progress entry.
    public func progress(_ entry: ProgressEntry) {
        run.reporter.add(progress: entry)
    }

    // MARK: Logs

    /// A logger whose lines are kept with the task (see `jobq logs`) and also go to the worker's
    /// log, tagged with the task id.
    public var logger: Logger {
        let handler = TaskLogHandler(upstream: upstreamLogger.handler, reporter: run.reporter, taskID: claimed.id)
        return Logger(label: upstreamLogger.label) { _ in handler }
    }

    /// Appends one line to the task's log as it is (no level, no metadata).
    public func log(_ line: String) {
        run.reporter.add(line: line)
    }

    // MARK: Cancellation

    /// Why the handler was told to stop, or `nil` while it may go on.
    public var stopReason: StopReason? { run.stopReason }
}
