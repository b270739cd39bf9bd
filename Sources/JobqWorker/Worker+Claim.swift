import JobqCore
import Logging

/// The claim loop: take as many tasks as there are free slots in one call; when there are none,
/// block on the queues' wake-up keys until a producer (or a released dependent, or a promoted
/// retry) pushes one.
extension Worker {
    func claimLoop() async {
        var failures = ErrorStreak(operation: "claim")
        var decisions = ClaimDecisions(exitWhenDrained: configuration.exitWhenDrained)
        let batchLimit = min(configuration.effectiveClaimBatch, 500)
        let order = QueueOrder(queues: configuration.queues, weights: configuration.queueWeights)
        var generator = SystemRandomNumberGenerator()
        while let (count, idle) = await nextClaimSize(batchLimit: batchLimit) {
            let batch: ClaimBatch
            do {
                batch = try await store.claim(queues: order.next(using: &generator), count: count, lease: configuration.lease, worker: id, idle: idle)
                failures.succeeded(logger)
            } catch {
                if isStopping { return }
                metrics.redisError("claim")
                await failures.failed(error, logger)
                continue
            }
            let claimed = batch.tasks
            if let wake = batch.rateWake { learnDue(atRedisMilliseconds: wake) }
            state.withLock { $0.lifecycle.claimReturned(mode: batch.mode, idle: idle) }
            if batch.mode == .alone, let suspect = claimed.first {
                logger.notice("running a crash suspect alone (its workers died under it before)", metadata: ["task": .string(suspect.id)])
            }
            switch decisions.claimed(claimed.count, mode: batch.mode, stopping: isStopping) {
            case .startTasks:
                metrics.claimBatch.record(claimed.count)
                start(claimed)
            case .drainForSuspect:
                logger.debug("a crash suspect waits: claiming again once every slot is free")
            case .stopClaiming:
                return
            case .stopDrained:
                logger.info("queues drained: nothing ready, running or due soon")
                requestStop(.drained)
                return
            case .checkDrained:
                if decisions.drainChecked(nothingLeft: await nothingLeftToDo()) == .waitForWork {
                    await waitForWork()
                }
            case .waitForWork:
                await waitForWork()
            }
        }
    }

    /// How many tasks to claim next (and whether no handler runs), once at least one slot is
    /// free; `nil` once the worker stops claiming.
    private func nextClaimSize(batchLimit: Int) async -> (Int, idle: Bool)? {
        while true {
            switch state.withLock({ $0.lifecycle.claimAction(batchLimit: batchLimit) }) {
            case .claim(let count, let idle): return (count, idle)
            case .stopClaiming: return nil
            case .waitForSlot:
                await capacityChanged.wait()
                if Task.isCancelled { return nil }
            }
        }
    }

    /// Starts a handler for each claimed task; after an immediate stop, hands them back instead.
    private func start(_ claimed: [ClaimedTask]) {
        let now = ContinuousClock.now
        let maxLines = configuration.maxBufferedLogLines
        let runs = claimed.map { task in
            RunningTask(claimed: task, started: now, reporter: TaskReporter(lease: task.lease, maxLines: maxLines) { [weak self] reporter in
                self?.scheduleReport(reporter)
            })
        }
        let (action, busy) = state.withLock { state in
            (state.lifecycle.accept(runs.map { ($0.lease, $0) }), state.lifecycle.busy)
        }
        guard action == .run else {
            for run in runs { enqueue(OutcomeRules.handedBackUnstarted(run.claimed, workerID: id), for: run) }
            return
        }
        metrics.slotsBusy.record(busy)
        var batched: [(RunningTask, AnyBatchHandler)] = []
        for run in runs {
            deadlines.track(run)
            if let handler = registry.batchHandler(named: run.claimed.handler) {
                batched.append((run, handler))
                continue
            }
            // One `Task` per handler (not a child of the engine's group): it is cancelled on its
            // own, and one that ignores cancellation is abandoned at shutdown, not awaited.
            let handle = Task { await self.execute(run) }
            run.attach(handle)
        }
        if !batched.isEmpty { joinBatches(batched) }
    }

    /// Blocks until a wake-up arrives or the idle wait passes. (Delayed tasks are promoted by
    /// the maintenance loop at their due time; promoting pushes a wake-up.) Returns early when
    /// the worker stops.
    private func waitForWork() async {
        var timeout = configuration.idleWait
        if configuration.exitWhenDrained { timeout = min(timeout, .milliseconds(250)) }
        do {
            _ = try await store.waitForWork(queues: configuration.queues, timeout: timeout)
        } catch {
            if Task.isCancelled || isStopping { return }
            metrics.redisError("wait")
            logger.warning("waiting for work failed; retrying", metadata: ["error": .string(error.description)])
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Drain mode: nothing held here, nothing RUNNING in the namespace, nothing due soon.
    private func nothingLeftToDo() async -> Bool {
        guard state.withLock({ $0.lifecycle.held.isEmpty && $0.lifecycle.busy == 0 }) else { return false }
        do {
            let running = try await store.runningTaskCount()
            guard running == 0 else { return false }
            let promoted = try await store.promoteDueTasks()
            let due = promoted.nextDue.map { localInstant(redisMilliseconds: $0) }
            state.withLock { $0.schedule.promoteDone(at: .now, nextDue: due) }
            guard promoted.promoted == 0, promoted.rateKeys == 0 else { return false } // (a rate key woken: its tasks are queued)
            if let due = promoted.nextDue, timeUntil(redisMilliseconds: due) <= configuration.drainHorizon { return false }
            return true
        } catch {
            metrics.redisError("drain_check")
            logger.debug("drain check failed", metadata: ["error": .string("\(error)")])
            return false
        }
    }
}

/// Consecutive failures of one Redis operation: logged once at warning level (then quietly),
/// with exponential backoff from 100 ms to 5 s, and a notice when it works again.
struct ErrorStreak {
    let operation: String
    var count = 0

    mutating func failed(_ error: JobqError, _ logger: Logger) async {
        count += 1
        if count == 1 {
            logger.warning("\(operation) failed; retrying with backoff (the Redis client reconnects by itself)", metadata: ["error": .string(error.description)])
        } else {
            logger.debug("\(operation) failed again", metadata: ["error": .string(error.description), "failures": .stringConvertible(count)])
        }
        let exponent = min(count - 1, 6)
        let delay = min(Duration.milliseconds(100) * (1 << exponent), .seconds(5))
        try? await Task.sleep(for: delay)
    }

    mutating func succeeded(_ logger: Logger) {
        if count > 0 {
            logger.notice("\(operation) works again", metadata: ["failures": .stringConvertible(count)])
            count = 0
        }
    }
}
