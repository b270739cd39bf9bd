import Jobq
import JobqCore
import Logging

/// Running one handler and turning what it did into an outcome.
extension Worker {
    /// What to record for a run.
    enum Outcome: Sendable {
        case completion(Completion)
        case failure(Failure)
    }

    /// The body of a handler's `Task`: run it, then report its outcome (or the stop's).
    func execute(_ run: RunningTask) async {
        let perHandler = metrics.handler(run.claimed.handler)
        perHandler.started.increment()
        if logger.logLevel <= .debug {
            logger.debug("task started", metadata: Self.metadata(run))
        }
        let outcome = await invoke(run)
        let settlement = run.handlerReturned()
        let elapsed = ContinuousClock.now - run.started
        perHandler.duration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        deadlines.untrack(run)
        switch settlement {
        case nil:
            break  // the stop's outcome was reported when the handler overran its stop timeout
        case .handler:
            await report(outcome, for: run)
        case .stop(let reason):
            await report(stopOutcome(reason, run), for: run)
        }
        let busy = state.withLock { state -> Int in
            state.busy -= 1
            return state.busy
        }
        metrics.slotsBusy.record(busy)
        capacityChanged.notify()
        drainChanged.notify()
    }

    /// Calls the handler and classifies how it ended.
    private func invoke(_ run: RunningTask) async -> Outcome? {
        let claimed = run.claimed
        let lease = claimed.lease
        guard let handler = registry.handler(named: claimed.handler) else {
            let known = registry.names.joined(separator: ", ")
            return .failure(Failure(
                lease: lease, mode: .final, reason: "unknown_handler",
                message: "no handler named \(claimed.handler) on worker \(id) (it has: \(known.isEmpty ? "none" : known)); register it, or submit to a queue whose workers have it, then retry the task"
            ))
        }
        // Workflow files pass results along as {"$retval": "id"}: substitute them now.
        let payload: [UInt8]
        do {
            payload = try await store.resolveRetvals(in: claimed.payload, prerequisites: claimed.prerequisites)
        } catch {
            return .failure(Failure(
                lease: lease, mode: .retry(delay: claimed.backoff.delay(afterAttempt: claimed.attempt)),
                reason: "error", message: "cannot read the prerequisites' results: \(error.message)"
            ))
        }
        let context = HandlerContext(run: run, payload: payload, logger: logger, workerID: id)
        do {
            let result = try await handler.body(payload, context)
            let limit = store.maxResultBytes
            guard result.count <= limit else {
                return .failure(Failure(
                    lease: lease, mode: .final, reason: "result_too_large",
                    message: "result is \(result.count) bytes; the limit is \(limit) — store large results elsewhere and return a reference"
                ))
            }
            return .completion(Completion(lease: lease, result: result))
        } catch let failure as PayloadDecodingFailure {
            return .failure(Failure(lease: lease, mode: .final, reason: "bad_payload", message: failure.message))
        } catch let error as HandlerError {
            switch error.kind {
            case .skip:
                return .completion(Completion(lease: lease, result: error.result ?? Array("null".utf8), skipped: true))
            case .permanent:
                return .failure(Failure(lease: lease, mode: .final, reason: error.reason, message: error.message))
            default:
                let delay = error.retryAfter ?? claimed.backoff.delay(afterAttempt: claimed.attempt)
                return .failure(Failure(lease: lease, mode: .retry(delay: delay), reason: error.reason, message: error.message))
            }
        } catch {
            return .failure(Failure(
                lease: lease, mode: .retry(delay: claimed.backoff.delay(afterAttempt: claimed.attempt)),
                reason: "error", message: Self.describe(error)
            ))
        }
    }

    /// The outcome a stop decision stands for (`nil`: a lost lease reports nothing).
    func stopOutcome(_ reason: StopReason, _ run: RunningTask) -> Outcome? {
        let claimed = run.claimed
        switch reason {
        case .timeout:
            return .failure(Failure(
                lease: claimed.lease, mode: .retry(delay: claimed.backoff.delay(afterAttempt: claimed.attempt)), reason: "timeout",
                message: "timed out after \(WorkerConfiguration.format(run.deadline - run.started)) (attempt \(claimed.attempt) of \(claimed.maxAttempts)); raise the task's timeout if it needs longer"
            ))
        case .cancelled:
            return .failure(Failure(lease: claimed.lease, mode: .cancelled, reason: "cancelled", message: "cancelled while running on worker \(id)"))
        case .shutdown:
            return .failure(Failure(lease: claimed.lease, mode: .handBack, reason: "shutdown", message: "handed back: worker \(id) shut down"))
        case .leaseLost:
            return nil
        }
    }

    /// Sends the task's last progress and log lines, then queues its outcome for recording.
    func report(_ outcome: Outcome?, for run: RunningTask) async {
        if run.reporter.hasPending {
            do {
                try await run.reporter.flush(store, closing: true)
            } catch {
                logger.debug("could not send the task's last log lines", metadata: ["task": .string(run.claimed.id), "error": .string(error.description)])
            }
        }
        guard let outcome else {
            release(run)
            return
        }
        enqueue(outcome, for: run)
    }

    /// Forgets a lease whose outcome will not be recorded by this worker.
    func release(_ run: RunningTask) {
        state.withLock { state in
            if state.held[run.lease] === run { state.held[run.lease] = nil }
        }
        drainChanged.notify()
    }

    /// Tells a running handler to stop; its outcome follows once it returns (or overruns).
    func stop(_ run: RunningTask, _ reason: StopReason) {
        guard run.requestStop(reason, stopTimeout: configuration.stopTimeout, now: .now) else { return }
        let level: Logger.Level = reason == .leaseLost ? .warning : .info
        logger.log(level: level, "stopping the task's handler", metadata: Self.metadata(run).merging(["because": .string(reason.rawValue)]) { $1 })
        deadlines.nudge()
    }

    static func metadata(_ run: RunningTask) -> Logger.Metadata {
        [
            "task": .string(run.claimed.id), "handler": .string(run.claimed.handler),
            "attempt": .string("\(run.claimed.attempt)/\(run.claimed.maxAttempts)"),
        ]
    }

    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        let type = String(describing: Swift.type(of: error))
        return text.hasPrefix(type) ? text : "\(type): \(text)"
    }
}
