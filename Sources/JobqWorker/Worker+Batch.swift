import JobqCore
import Logging

/// Batch handlers: claimed tasks of a batch handler wait in the ``BatchBuffer`` (holding their
/// slots and leases; heartbeats extend them like any held lease) until their group is full or
/// its wait is over, then run as one call. Each task then settles on its own, through the same
/// paths as a single task: ``finish(_:with:)`` (its stop, if one was decided, wins over what the
/// handler reported) and the outcome loop's fenced `complete`/`fail` calls.
extension Worker {
    /// Adds claimed tasks of batch handlers to their groups; starts the groups they fill.
    func joinBatches(_ runs: [(RunningTask, AnyBatchHandler)]) {
        let actions = batches.withLock { buffer in
            runs.map { run, handler in
                let key = BatchBuffer<RunningTask>.GroupKey(handler: handler.name, key: handler.keyTemplate?.expand(payload: run.claimed.payload))
                return (handler, buffer.add(run, to: key, max: handler.settings.max))
            }
        }
        for (handler, action) in actions {
            switch action {
            case .start(let members):
                startBatch(members, handler)
            case .armTimer(let key, let generation):
                Task {
                    try? await Task.sleep(for: handler.settings.wait)
                    if let members = self.batches.withLock({ $0.timerFired(key, generation: generation) }) {
                        self.startBatch(members, handler)
                    }
                }
            case .none:
                break
            }
        }
    }

    /// The worker stops claiming: batches still filling start now, with what they hold.
    func startWaitingBatches() {
        for (key, members) in batches.withLock({ $0.takeAll() }) {
            guard let handler = registry.batchHandler(named: key.handler) else { continue }
            startBatch(members, handler)
        }
    }

    private func startBatch(_ runs: [RunningTask], _ handler: AnyBatchHandler) {
        let batch = BatchHandle(members: runs.count)
        for run in runs { run.attach(batch) }
        metrics.batchSize.record(runs.count)
        let handle = Task { await self.executeBatch(runs, handler) }
        batch.attach(handle)
    }

    /// The body of a batch's `Task`: one call of the handler, under one `jobq.batch` span linked
    /// to every task's trace (``tracedBatch(_:handler:_:)``), then one outcome per task.
    private func executeBatch(_ runs: [RunningTask], _ handler: AnyBatchHandler) async {
        for run in runs { began(run) }
        if logger.logLevel <= .debug {
            logger.debug("batch started", metadata: ["handler": .string(handler.name), "tasks": .stringConvertible(runs.count)])
        }
        let outcomes = await tracedBatch(runs, handler: handler.name) { await self.outcomes(runs, handler) }
        for (run, outcome) in zip(runs, outcomes) { await finish(run, with: outcome) }
    }

    /// Prepares the tasks, calls the handler once with those ready, and gives each task its
    /// outcome, in the order of `runs`.
    private func outcomes(_ runs: [RunningTask], _ handler: AnyBatchHandler) async -> [RunOutcome] {
        var early: [TaskLease: RunOutcome] = [:]
        var contexts: [HandlerContext] = []
        for run in runs {
            switch await prepare(run) {
            case .ready(var context):
                context.inBatch = true // (a batch item cannot spawn: its outcome is the batch's)
                contexts.append(context)
            case .settled(let outcome): early[run.lease] = outcome
            }
        }
        var reported: [String: BatchOutcome<[UInt8]>] = [:]
        var thrown: (any Error)?
        if !contexts.isEmpty {
            do {
                reported = try await handler.body(contexts)
            } catch {
                thrown = error
            }
        }
        return runs.map { run in
            let claimed = run.claimed
            if let settled = early[run.lease] { return settled }
            if let thrown { return OutcomeRules.threw(thrown, claimed) }
            if let given = reported[claimed.id] { return OutcomeRules.batch(given, claimed, maxResultBytes: store.maxResultBytes) }
            return OutcomeRules.batchNoOutcome(claimed, "the handler's answer has no entry for \(claimed.id)")
        }
    }
}
