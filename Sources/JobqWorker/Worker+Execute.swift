import Jobq
import JobqCore
import Logging
import Tracing

/// Running one handler and turning what it did into an outcome. The decisions are
/// ``TaskSettlement``'s (which outcome stands) and ``OutcomeRules``' (what it is); this file
/// runs the handler and executes them.
extension Worker {
    /// The body of a handler's `Task`: run it, then report its outcome (or the stop's).
    func execute(_ run: RunningTask) async {
        began(run)
        await finish(run, with: await traced(run) { await invoke(run) })
    }

    /// Counts and logs the start of a task's handler.
    func began(_ run: RunningTask) {
        metrics.handler(run.claimed.handler).started.increment()
        if logger.logLevel <= .debug {
            logger.debug("task started", metadata: Self.metadata(run))
        }
    }

    /// The task's handler returned `outcome`: report it (or the stop's), free the task's slot.
    func finish(_ run: RunningTask, with outcome: RunOutcome) async {
        let settlement = run.handlerReturned()
        let elapsed = ContinuousClock.now - run.started
        metrics.handler(run.claimed.handler).duration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        deadlines.untrack(run)
        switch settlement {
        case .nothing:
            break  // the stop's outcome was reported when the handler overran its stop timeout
        case .handlerOutcome:
            await report(outcome, for: run)
        case .stopOutcome(let reason):
            await report(stopOutcome(reason, run), for: run)
        }
        let busy = state.withLock { $0.lifecycle.handlerReturned() }
        metrics.slotsBusy.record(busy)
        capacityChanged.notify()
        drainChanged.notify()
    }

    /// Calls the handler and classifies how it ended.
    private func invoke(_ run: RunningTask) async -> RunOutcome {
        let claimed = run.claimed
        if claimed.handler == ChildRunRequest.handlerName { return await startChildRun(claimed) }
        if claimed.handler == MapRequest.handlerName { return await startMap(claimed) }
        guard let handler = registry.handler(named: claimed.handler) else {
            return OutcomeRules.unknownHandler(claimed, workerID: id, known: registry.names)
        }
        let context: HandlerContext
        switch await prepare(run) {
        case .ready(let ready): context = ready
        case .settled(let outcome): return outcome
        }
        do {
            let outcome = OutcomeRules.returned(try await handler.body(context.payload, context), claimed, maxResultBytes: store.maxResultBytes)
            guard run.childrenRead, case .completion(var completion) = outcome else { return outcome }
            completion.childrenRead = true
            return .completion(completion)
        } catch {
            return OutcomeRules.threw(error, claimed)
        }
    }

    enum Preparation {
        /// The handler may run with this context.
        case ready(HandlerContext)
        /// The task ends before its handler runs, with this outcome.
        case settled(RunOutcome)
    }

    /// The context a handler gets: workflow files pass results along as {"$retval": "id"},
    /// substituted now.
    func prepare(_ run: RunningTask) async -> Preparation {
        let claimed = run.claimed
        do {
            let payload = try await store.resolveRetvals(in: claimed.payload, prerequisites: claimed.prerequisites, scope: RunScope.run(of: claimed.id))
            var context = HandlerContext(run: run, store: store, payload: payload, logger: logger, workerID: id, serviceContext: ServiceContext.current ?? .topLevel)
            context.mappedResults = try await mappedResults(of: claimed)
            return .ready(context)
        } catch {
            return .settled(OutcomeRules.prerequisitesUnreadable(claimed, error))
        }
    }

    /// The built-in `jobq.run` (a sub-workflow task): start its child run — idempotently, so a
    /// re-run after a worker death or a retry finds the run it started, and a child that ended
    /// FAILED or CANCELLED is retried — and complete the task as waiting for it. The task then
    /// holds no slot; the child run's end ends it (prelude resolve_parent).
    func startChildRun(_ claimed: ClaimedTask) async -> RunOutcome {
        do {
            let request = try ChildRunRequest.decode(claimed.payload)
            let child = try await store.startChildRun(request, parent: claimed.id)
            return .completion(Completion(lease: claimed.lease, result: Array("null".utf8), awaitRun: child))
        } catch where error.code == .invalidPayload || error.code == .invalidOption || error.code == .invalidName || error.code == .invalidPrecondition {
            return .failure(Failure(lease: claimed.lease, mode: .final, reason: "bad_payload", message: error.message))
        } catch where error.code == .runExists {
            // the child's id is taken by a run this task did not start: retrying cannot help
            return .failure(Failure(lease: claimed.lease, mode: .final, reason: "child_run_taken", message: error.message))
        } catch {
            return .failure(Failure(lease: claimed.lease, mode: .retry(delay: claimed.backoff.delay(afterAttempt: claimed.attempt)), reason: "error", message: "could not start the child run: \(error.message)"))
        }
    }

    /// The outcome a stop decision stands for (`nil`: a lost lease reports nothing).
    func stopOutcome(_ reason: StopReason, _ run: RunningTask) -> RunOutcome? {
        OutcomeRules.stopped(reason, run.claimed, timeout: run.deadline - run.started, workerID: id)
    }

    /// Sends the task's last progress and log lines, then queues its outcome for recording.
    func report(_ outcome: RunOutcome?, for run: RunningTask) async {
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

    /// Forgets a lease: its outcome was recorded or refused, or will not be recorded here.
    func release(_ run: RunningTask) {
        state.withLock { $0.lifecycle.release(run.lease) }
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
}
