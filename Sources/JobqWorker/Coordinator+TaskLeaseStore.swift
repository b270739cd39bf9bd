import Jobq
import JobqCore
import Tracing

/// The Redis implementation of the worker's store: the engine's lease store, with the few
/// maintenance and task-store calls a worker makes.
///
/// With `Worker.init(client:…)`, the only place in JobqWorker that names `Coordinator`, so
/// pointing the worker at another store is a change here.
extension Coordinator: TaskLeaseStore {
    package var storeNamespace: String { keys.namespace }

    package var maxResultBytes: Int { runner.limits.maxPayloadBytes }

    package func claim(queues: [String], count: Int, lease: Duration, worker: String, idle: Bool) async throws(JobqError) -> ClaimBatch {
        try await leases.claimBatch(queues: queues, count: count, lease: lease, worker: worker, idle: idle)
    }

    package func heartbeat(_ held: [TaskLease], lease: Duration, worker: String) async throws(JobqError) -> [LeaseWriteOutcome] {
        try await leases.heartbeat(held, lease: lease, worker: worker)
    }

    package func complete(_ completions: [Completion]) async throws(JobqError) -> LeaseWriteBatch {
        try await leases.completeBatch(completions)
    }

    package func fail(_ failures: [Failure]) async throws(JobqError) -> LeaseWriteBatch {
        try await leases.failBatch(failures)
    }

    package func continueCascades() async throws(JobqError) {
        try await leases.continueCascades()
        // a failure of ours may have stopped its run (fail-fast): carry the cancellation on now
        try await maintenance.continueUnownedWork()
    }

    @discardableResult
    package func report(_ lease: TaskLease, progress: [ProgressEntry], log lines: [String]) async throws(JobqError) -> LeaseWriteOutcome {
        try await leases.report(lease, progress: progress, log: lines)
    }

    @discardableResult
    package func saveCheckpoint(_ lease: TaskLease, _ checkpoint: [UInt8]) async throws(JobqError) -> LeaseWriteOutcome {
        try await leases.saveCheckpoint(lease, checkpoint)
    }

    package func startChildRun(_ request: ChildRunRequest, parent: String) async throws(JobqError) -> String {
        let id = ChildRunRequest.childRunID(parent: parent)
        if let existing = try await tasks.run(id) {
            // only the run this task started (a run someone named so is not its child)
            guard existing.parent == parent || (existing.parent == nil && existing.definition == request.definition) else {
                throw JobqError(.runExists, "a run \(id) exists that is not the child run of \(parent)", subject: id)
            }
            // given up half-submitted (an earlier attempt died between its submit calls): retrying
            // it would run part of the child definition as if it were all of it
            if existing.reason == "submit_abandoned" {
                throw JobqError(.invalidState, "child run \(id) was given up while it was being submitted (an earlier attempt of \(parent) stopped mid-way); it holds only part of its tasks and cannot be resumed", subject: id)
            }
            // a re-run of the parent task: the child it started before (retried if it failed)
            if existing.state == .failed || existing.state == .cancelled { _ = try await tasks.retry(run: id) }
            return id
        }
        let (specs, options) = try request.submission(id: id)
        do {
            // the child run's tasks continue the parent task's trace (its span is current here)
            return try await tasks.submit(specs, run: options, trace: TraceHeaders.inject(ServiceContext.current ?? .topLevel)).run ?? id
        } catch where error.code == .runExists {
            return id // started meanwhile by another attempt of the same parent
        }
    }

    package func expandMapped(_ result: [UInt8]) async throws(JobqError) -> [UInt8] {
        try await tasks.expandMapped(result)
    }

    package func spawnChildRun(_ request: ChildRunRequest, lease: TaskLease, key: String, policy: ChildFailurePolicy) async throws(JobqError) -> SpawnedRun {
        let id = ChildRunRequest.childRunID(parent: lease.id, key: key)
        var (specs, options) = try request.submission(id: id)
        options.spawnedBy = SpawnFence(parent: lease, policy: policy, width: specs.count)
        // the children continue the parent's trace (its span is current here)
        let submitted = try await tasks.submit(specs, run: options, trace: TraceHeaders.inject(ServiceContext.current ?? .topLevel))
        if submitted.created { return SpawnedRun(id: id, created: true, state: .pending) }
        // attached to the run an earlier attempt (or invocation) spawned
        let state = try await tasks.run(id)?.state ?? .done
        return SpawnedRun(id: id, created: false, state: state)
    }

    package func childRun(_ id: String) async throws(JobqError) -> RunInfo? {
        try await tasks.run(id)
    }

    package func childResults(run: String, after cursor: WorkflowPageCursor?, limit: Int) async throws(JobqError) -> (results: [ChildResult], next: WorkflowPageCursor?) {
        let page = try await tasks.taskIDs(inWorkflow: run, after: cursor, limit: limit)
        let infos = try await tasks.tasks(page.ids)
        let results = zip(page.ids, infos).map { id, info in
            ChildResult(key: RunScope.key(of: id), state: info?.state, result: info?.result, reason: info?.reason)
        }
        return (results, page.next)
    }

    package func resolveRetvals(in payload: [UInt8], prerequisites: [PrerequisiteOutcome], scope: String?) async throws(JobqError) -> [UInt8] {
        try await tasks.resolveRetvals(in: payload, prerequisites: prerequisites, scope: scope)
    }

    package func waitForWork(queues: [String], timeout: Duration) async throws(JobqError) -> Bool {
        try await leases.waitForWork(queues: queues, timeout: timeout)
    }

    package func waitForControl(worker: String, timeout: Duration) async throws(JobqError) -> [String] {
        try await leases.waitForControl(worker: worker, timeout: timeout)
    }

    package func maintain(owner: String, interval: Duration) async throws(JobqError) -> MaintenanceReport? {
        guard let pass = try await maintenance.pass(owner: owner, interval: interval) else { return nil }
        return MaintenanceReport(
            reaped: pass.reaped.map { (id: $0.id, state: $0.state) },
            promote: PromoteReport(promoted: pass.promote.promoted, nextDue: pass.promote.nextDue),
            scheduledRuns: pass.scheduledRuns, scheduleErrors: pass.scheduleErrors.map(\.description)
        )
    }

    package func promoteDueTasks() async throws(JobqError) -> PromoteReport {
        let result = try await maintenance.promote()
        // a run whose deadline passed was stopped: walk its cancellation now, not at the next pass
        if result.runsStopped > 0 { try await maintenance.continueBoundedWork(staleAfter: .zero) }
        return PromoteReport(promoted: result.promoted, nextDue: result.nextDue, rateKeys: result.rateKeys)
    }

    package func runningTaskCount() async throws(JobqError) -> Int {
        try await inspector.runningCount()
    }

    package func serverTime() async throws(JobqError) -> Int64 {
        try await runner.serverTime()
    }

    package func register(_ registration: WorkerRegistration, ttl: Duration) async throws(JobqError) {
        try await leases.register(worker: registration, ttl: ttl)
    }

    package func unregister(worker id: String) async throws(JobqError) {
        try await leases.unregister(worker: id)
    }
}
