import JobqCore
import Logging

/// Outcomes waiting to be recorded.
struct PendingOutcomes {
    var completions: [(RunningTask, Completion)] = []
    var failures: [(RunningTask, Failure)] = []
    var isEmpty: Bool { completions.isEmpty && failures.isEmpty }
}

/// Recording outcomes in batches: whatever finished while the previous `complete`/`fail` call was
/// in flight goes in the next one. An idle worker sends an outcome at once (no added latency);
/// a busy one sends hundreds per call. A failed call is repeated with backoff: the fencing token
/// makes repeating safe (a repeat of an applied write is refused and changes nothing).
extension Worker {
    /// Most items in one `complete` or `fail` call (bounds the time one script blocks Redis).
    static let maxOutcomeBatch = 1000

    func enqueue(_ outcome: RunOutcome, for run: RunningTask) {
        outcomes.withLock { pending in
            switch outcome {
            case .completion(let completion): pending.completions.append((run, completion))
            case .failure(let failure): pending.failures.append((run, failure))
            }
        }
        outcomesQueued.notify()
    }

    func outcomeLoop() async {
        var streak = ErrorStreak(operation: "recording outcomes")
        while true {
            let batch = outcomes.withLock { pending -> PendingOutcomes in
                var batch = PendingOutcomes()
                let completions = min(pending.completions.count, Self.maxOutcomeBatch)
                let failures = min(pending.failures.count, Self.maxOutcomeBatch)
                batch.completions = Array(pending.completions.prefix(completions))
                batch.failures = Array(pending.failures.prefix(failures))
                pending.completions.removeFirst(completions)
                pending.failures.removeFirst(failures)
                return batch
            }
            if batch.isEmpty {
                if state.withLock({ $0.lifecycle.phase >= .finishing }) { return }
                await outcomesQueued.wait()
                continue
            }
            metrics.ackBatch.record(batch.completions.count + batch.failures.count)
            async let completionsLeft = recordCompletions(batch.completions)
            async let failuresLeft = recordFailures(batch.failures)
            let (leftC, errorC) = await completionsLeft
            let (leftF, errorF) = await failuresLeft
            if let error = errorC ?? errorF {
                // Put back in front and try again after a pause, unless the worker is finishing.
                outcomes.withLock { pending in
                    pending.completions.insert(contentsOf: leftC, at: 0)
                    pending.failures.insert(contentsOf: leftF, at: 0)
                }
                if state.withLock({ $0.lifecycle.phase >= .finishing }) { return }
                await streak.failed(error, logger)
            } else {
                streak.succeeded(logger)
            }
        }
    }

    /// Returns the items to try again and the error, if the call failed.
    private func recordCompletions(_ items: [(RunningTask, Completion)]) async -> ([(RunningTask, Completion)], JobqError?) {
        guard !items.isEmpty else { return ([], nil) }
        do {
            let batch = try await store.complete(items.map(\.1))
            if batch.cascadesLeft { cascadesQueued.notify() }
            for ((run, _), result) in zip(items, batch.outcomes) {
                recorded(run, result, reason: nil)
            }
            return ([], nil)
        } catch {
            metrics.redisError("complete")
            return (items, error)
        }
    }

    private func recordFailures(_ items: [(RunningTask, Failure)]) async -> ([(RunningTask, Failure)], JobqError?) {
        guard !items.isEmpty else { return ([], nil) }
        do {
            let batch = try await store.fail(items.map(\.1))
            if batch.cascadesLeft { cascadesQueued.notify() }
            for ((run, failure), result) in zip(items, batch.outcomes) {
                recorded(run, result, reason: failure)
            }
            return ([], nil)
        } catch {
            metrics.redisError("fail")
            return (items, error)
        }
    }

    /// Continues the cascades an outcome call left (a fan-out or failed chain larger than one
    /// script call's budget), at once and off the outcome path, so dependents are settled in
    /// milliseconds even on an idle fleet; the maintenance pass is only the backstop.
    func cascadeLoop() async {
        while true {
            await cascadesQueued.wait()
            if Task.isCancelled || state.withLock({ $0.lifecycle.phase >= .finishing }) { return }
            do {
                try await store.continueCascades()
            } catch {
                metrics.redisError("settle")
                logger.debug("continuing a cascade failed; the maintenance pass goes on with it", metadata: ["error": .string(error.description)])
            }
        }
    }

    /// Bookkeeping once Redis has answered for one outcome.
    private func recorded(_ run: RunningTask, _ result: LeaseWriteOutcome, reason failure: Failure?) {
        let handler = run.claimed.handler
        let perHandler = metrics.handler(handler)
        let reason = failure?.reason ?? ""
        switch result {
        case .done:
            perHandler.succeeded.increment()
            if logger.logLevel <= .debug { logger.debug("task done", metadata: Self.metadata(run)) }
        case .retrying:
            if case .retry(let delay) = failure?.mode, delay > .zero { learnDue(after: delay) }
            metrics.failure("retried", handler: handler, reason: reason).increment()
            logger.info("task failed; it will run again", metadata: Self.metadata(run).merging([
                "reason": .string(reason), "error": .string(failure?.message ?? ""),
            ]) { $1 })
        case .failed:
            metrics.failure("failed", handler: handler, reason: reason).increment()
            logger.warning("task failed for good", metadata: Self.metadata(run).merging([
                "reason": .string(reason), "error": .string(failure?.message ?? ""),
            ]) { $1 })
        case .cancelled:
            perHandler.cancelled.increment()
            logger.info("task cancelled", metadata: Self.metadata(run))
        case .handedBack:
            perHandler.handedBack.increment()
            logger.info("task handed back", metadata: Self.metadata(run))
        case .snoozed:
            if case .snooze(let delay, _) = failure?.mode { learnDue(after: delay) }
            if case .rateLimited(let delay, _) = failure?.mode { learnDue(after: delay) }
            perHandler.snoozed.increment()
            logger.info("task snoozed; it will run again later", metadata: Self.metadata(run))
        case .waiting:
            logger.info("task waits for a signal; it runs again when the signal comes", metadata: Self.metadata(run))
        case .extended, .cancelRequested:
            break
        case .refused(let code):
            // A repeat of a write that was applied (state already moved on) is expected after a
            // broken connection; anything else means the lease was lost meanwhile.
            logger.warning("the task's outcome was not recorded: this worker no longer holds its lease (it may have expired and the task run elsewhere)", metadata: Self.metadata(run).merging([
                "refusal": .string(code.rawValue),
            ]) { $1 })
        }
        release(run)
    }
}
