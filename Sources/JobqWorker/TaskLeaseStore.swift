import JobqCore

/// Everything a ``Worker`` asks of the broker, and nothing more: claim under a lease, keep the
/// leases alive, record outcomes, wait for wake-ups, run the maintenance pass, register itself.
///
/// The worker depends on this protocol rather than on a concrete Redis type so that its
/// decisions (when to claim, how many, what to record, how to shut down) can be exercised
/// against an in-memory store in tests. `Coordinator` conforms (Redis, Lua scripts); see
/// `Coordinator+TaskLeaseStore.swift`. Every write after a claim carries the task's fencing
/// token: a store must refuse (`.refused(.staleToken)`) a write whose token is not current and
/// change nothing.
package protocol TaskLeaseStore: Sendable {
    /// The installation the store serves (logged by the worker).
    var storeNamespace: String { get }
    /// The largest result a handler may return, in bytes.
    var maxResultBytes: Int { get }

    /// Claims up to `count` dispatchable tasks from `queues` (in that priority order) under a
    /// lease of `lease` for `worker`. `idle`: the worker runs no handler now, so it may be given
    /// one quarantined crash suspect to run alone (mode `.alone`); a busy worker may be told to
    /// drain for one (mode `.drain`, no tasks).
    func claim(queues: [String], count: Int, lease: Duration, worker: String, idle: Bool) async throws(JobqError) -> ClaimBatch
    /// Extends `leases`; one answer per lease (`.extended`, `.cancelRequested`, or `.refused`).
    func heartbeat(_ leases: [TaskLease], lease: Duration, worker: String) async throws(JobqError) -> [LeaseWriteOutcome]
    /// Records successful runs; one answer per completion.
    /// Whether the call left dependents to settle (more than one call's budget) is in the batch.
    func complete(_ completions: [Completion]) async throws(JobqError) -> LeaseWriteBatch
    /// Records unsuccessful runs (retry, final, hand-back, cancelled); one answer per failure.
    func fail(_ failures: [Failure]) async throws(JobqError) -> LeaseWriteBatch
    /// Settles the cascades a `complete` or `fail` left (bounded calls until none is left), so
    /// that the dependents of a large fan-out or a failed chain are settled now, not at the next
    /// maintenance pass.
    func continueCascades() async throws(JobqError)
    /// Records progress and log lines of a running task (fenced).
    @discardableResult
    func report(_ lease: TaskLease, progress: [ProgressEntry], log lines: [String]) async throws(JobqError) -> LeaseWriteOutcome
    /// Saves a running task's checkpoint (JSON; fenced) and returns once it is stored: the next
    /// claim of the task carries it. `.extended` when saved, `.refused` for a lost lease.
    @discardableResult
    func saveCheckpoint(_ lease: TaskLease, _ checkpoint: [UInt8]) async throws(JobqError) -> LeaseWriteOutcome
    /// Starts the child run of the sub-workflow task `parent` (idempotently: the run it started
    /// before is returned, and retried if it ended FAILED or CANCELLED). Returns the run's id.
    func startChildRun(_ request: ChildRunRequest, parent: String) async throws(JobqError) -> String
    /// A mapped task's result marker expanded into its children's results (``MappedResult``);
    /// any other result as is.
    func expandMapped(_ result: [UInt8]) async throws(JobqError) -> [UInt8]
    /// Submits the child run the running task `lease` spawns under `key` (fenced by the lease:
    /// `stale_token`, `invalid_state` refuse it, nothing written), or attaches to the one an
    /// earlier attempt or invocation spawned under that key.
    func spawnChildRun(_ request: ChildRunRequest, lease: TaskLease, key: String, policy: ChildFailurePolicy) async throws(JobqError) -> SpawnedRun
    /// The record of run `id`; `nil` when there is none.
    func childRun(_ id: String) async throws(JobqError) -> RunInfo?
    /// One page of run `run`'s tasks (at most `limit`, 1…1,000) in submission order, with their results.
    func childResults(run: String, after cursor: WorkflowPageCursor?, limit: Int) async throws(JobqError) -> (results: [ChildResult], next: WorkflowPageCursor?)
    /// The payload the handler sees: `{"$retval": "id"}` references replaced by results.
    func resolveRetvals(in payload: [UInt8], prerequisites: [PrerequisiteOutcome], scope: String?) async throws(JobqError) -> [UInt8]

    /// Blocks (never on the cooperative pool) until work may be waiting on `queues`, or
    /// `timeout` passes; whether a wake-up arrived. Task cancellation ends the wait.
    func waitForWork(queues: [String], timeout: Duration) async throws(JobqError) -> Bool
    /// Blocks until a cancellation is requested for a task `worker` runs, or `timeout` passes;
    /// the ids (empty on timeout). Task cancellation ends the wait.
    func waitForControl(worker: String, timeout: Duration) async throws(JobqError) -> [String]

    /// One maintenance pass if `owner` wins the fleet's lock for `interval` (reap expired
    /// leases, promote due delayed tasks); `nil` when another process holds the lock.
    func maintain(owner: String, interval: Duration) async throws(JobqError) -> MaintenanceReport?
    /// Promotes due delayed tasks (idempotent, no lock needed).
    func promoteDueTasks() async throws(JobqError) -> PromoteReport
    /// How many tasks are RUNNING in the namespace (drain mode's "nothing left" check).
    func runningTaskCount() async throws(JobqError) -> Int
    /// The store's clock, in ms since the epoch: due times are on this clock.
    func serverTime() async throws(JobqError) -> Int64

    /// Publishes the worker's self-description; it disappears `ttl` after the last call.
    func register(_ registration: WorkerRegistration, ttl: Duration) async throws(JobqError)
    /// Removes a stopping worker's registration.
    func unregister(worker id: String) async throws(JobqError)
}

/// What a worker publishes about itself: the registry's own record type.
package typealias WorkerRegistration = WorkerInfo

/// What a promote pass did, as far as the worker cares.
package struct PromoteReport: Sendable, Hashable {
    /// Delayed tasks made dispatchable.
    package var promoted: Int
    /// When the next delayed task falls due (store clock, ms), if any.
    package var nextDue: Int64?
    /// Rate keys whose parked tasks it woke (queued again).
    package var rateKeys: Int

    package init(promoted: Int, nextDue: Int64?, rateKeys: Int = 0) {
        self.promoted = promoted
        self.nextDue = nextDue
        self.rateKeys = rateKeys
    }
}

/// What one maintenance pass did.
package struct MaintenanceReport: Sendable {
    /// Running tasks whose lease had expired, with their new state.
    package var reaped: [(id: String, state: TaskState?)]
    package var promote: PromoteReport
    /// Runs the pass's due schedule ticks submitted, and schedules that could not fire.
    package var scheduledRuns: [String]
    package var scheduleErrors: [String]

    package init(reaped: [(id: String, state: TaskState?)], promote: PromoteReport, scheduledRuns: [String] = [], scheduleErrors: [String] = []) {
        self.reaped = reaped
        self.promote = promote
        self.scheduledRuns = scheduledRuns
        self.scheduleErrors = scheduleErrors
    }
}

extension TaskLeaseStore {
    /// A store without maps (a test double) returns results as they are.
    package func expandMapped(_ result: [UInt8]) async throws(JobqError) -> [UInt8] { result }
}
