@testable import JobqCore
@testable import JobqWorker
import Testing

/// The worker's decisions as value types: no I/O, no clock but the instants passed in.
@Suite("Worker state machines")
struct WorkerStateMachineTests {
    static func lease(_ id: String, _ token: Int = 1) -> TaskLease { TaskLease(id: id, token: token) }

    static func claimed(_ id: String = "t", attempt: Int = 1, maxAttempts: Int = 3, backoff: RetryBackoff = .fixed(delay: .seconds(7))) -> ClaimedTask {
        ClaimedTask(
            id: id, handler: "h", queue: "default", payload: Array("null".utf8), attempt: attempt, maxAttempts: maxAttempts,
            lease: lease(id), timeout: .seconds(10), leaseDeadline: 0, workflow: nil, backoff: backoff, title: "", prerequisites: []
        )
    }

    // MARK: WorkerLifecycle

    @Test func aWorkerStartsOnce() {
        var lifecycle = WorkerLifecycle<Int>(concurrency: 2)
        #expect(lifecycle.start() == .run)
        #expect(lifecycle.phase == .running)
        #expect(lifecycle.start() == .refuse)
    }

    @Test func stopRequestsOnlyEscalate() {
        var lifecycle = WorkerLifecycle<Int>(concurrency: 2)
        _ = lifecycle.start()
        #expect(!lifecycle.isStopping)
        #expect(lifecycle.requestStop(.graceful) == .wakeWaiters)
        #expect(lifecycle.isStopping)
        #expect(lifecycle.requestStop(.graceful) == .none)
        #expect(lifecycle.requestStop(.drained) == .none)
        #expect(lifecycle.requestStop(.immediate) == .wakeWaiters)
        #expect(lifecycle.stop == .immediate)
        #expect(lifecycle.beginDraining() == .immediate)
        #expect(lifecycle.phase == .draining)
    }

    @Test func aCrashSuspectRunsAloneAndADrainWaitsForEverySlot() {
        var lifecycle = WorkerLifecycle<Int>(concurrency: 4)
        _ = lifecycle.start()
        #expect(lifecycle.accept([(Self.lease("a"), 1), (Self.lease("b"), 2)]) == .run)
        // Told to drain: no claim while anything runs, even with free slots.
        lifecycle.claimReturned(mode: .drain, idle: false)
        #expect(lifecycle.claimAction(batchLimit: 500) == .waitForSlot)
        #expect(lifecycle.handlerReturned() == 1)
        #expect(lifecycle.claimAction(batchLimit: 500) == .waitForSlot)
        #expect(lifecycle.handlerReturned() == 0)
        #expect(lifecycle.claimAction(batchLimit: 500) == .claim(4, idle: true))
        // The idle claim got the suspect: it runs alone until it returns.
        lifecycle.claimReturned(mode: .alone, idle: true)
        #expect(lifecycle.accept([(Self.lease("suspect"), 3)]) == .run)
        #expect(lifecycle.claimAction(batchLimit: 500) == .waitForSlot)
        #expect(lifecycle.handlerReturned() == 0)
        #expect(lifecycle.claimAction(batchLimit: 500) == .claim(4, idle: true))
        // A normal idle claim ends a drain too (another worker took the suspect).
        lifecycle.claimReturned(mode: .drain, idle: false)
        lifecycle.claimReturned(mode: .normal, idle: true)
        #expect(lifecycle.accept([(Self.lease("c"), 4)]) == .run)
        #expect(lifecycle.claimAction(batchLimit: 500) == .claim(3, idle: false))
    }

    @Test func aDrainReplyNeitherStartsNorWaitsForWork() {
        var decisions = ClaimDecisions(exitWhenDrained: true)
        #expect(decisions.claimed(0, mode: .drain, stopping: false) == .drainForSuspect)
        #expect(decisions.claimed(0, mode: .drain, stopping: true) == .stopClaiming)
        #expect(decisions.claimed(1, mode: .alone, stopping: false) == .startTasks)
    }

    @Test func claimsAreSizedByTheFreeSlotsAndTheBatchLimit() {
        var lifecycle = WorkerLifecycle<Int>(concurrency: 4)
        #expect(lifecycle.claimAction(batchLimit: 500) == .stopClaiming, "not started")
        _ = lifecycle.start()
        #expect(lifecycle.claimAction(batchLimit: 500) == .claim(4, idle: true))
        #expect(lifecycle.claimAction(batchLimit: 3) == .claim(3, idle: true))
        #expect(lifecycle.accept([(Self.lease("a"), 1), (Self.lease("b"), 2), (Self.lease("c"), 3)]) == .run)
        #expect(lifecycle.busy == 3)
        #expect(lifecycle.claimAction(batchLimit: 500) == .claim(1, idle: false))
        #expect(lifecycle.accept([(Self.lease("d"), 4)]) == .run)
        #expect(lifecycle.claimAction(batchLimit: 500) == .waitForSlot)
        #expect(lifecycle.handlerReturned() == 3)
        #expect(lifecycle.claimAction(batchLimit: 500) == .claim(1, idle: false))
        _ = lifecycle.requestStop(.graceful)
        #expect(lifecycle.claimAction(batchLimit: 500) == .stopClaiming)
    }

    /// A claim in flight when a graceful stop began still runs its tasks (they are RUNNING in
    /// the store already); after an immediate stop they are handed back, but held until then.
    @Test func aClaimThatLandsDuringShutdownRunsOrGoesBack() {
        var graceful = WorkerLifecycle<Int>(concurrency: 4)
        _ = graceful.start()
        _ = graceful.requestStop(.graceful)
        _ = graceful.beginDraining()
        #expect(graceful.accept([(Self.lease("a"), 1)]) == .run)
        #expect(graceful.busy == 1)

        var immediate = WorkerLifecycle<Int>(concurrency: 4)
        _ = immediate.start()
        _ = immediate.requestStop(.immediate)
        #expect(immediate.accept([(Self.lease("a"), 1)]) == .handBack)
        #expect(immediate.busy == 0)
        #expect(immediate.held.keys.map(\.id) == ["a"], "held until the hand-back is recorded")
        immediate.release(Self.lease("a"))
        #expect(immediate.held.isEmpty)
    }

    @Test func drainingWaitsForHeldLeasesUntilTheDeadlineOrAnImmediateStop() {
        var lifecycle = WorkerLifecycle<Int>(concurrency: 2)
        _ = lifecycle.start()
        _ = lifecycle.accept([(Self.lease("a"), 1)])
        _ = lifecycle.requestStop(.graceful)
        _ = lifecycle.beginDraining()
        #expect(lifecycle.drainStep(deadlinePassed: false, stopEarlyOnImmediate: true) == .wait)
        #expect(lifecycle.drainStep(deadlinePassed: true, stopEarlyOnImmediate: true) == .giveUp)
        _ = lifecycle.requestStop(.immediate)
        #expect(lifecycle.drainStep(deadlinePassed: false, stopEarlyOnImmediate: true) == .giveUp)
        #expect(lifecycle.drainStep(deadlinePassed: false, stopEarlyOnImmediate: false) == .wait, "recording the hand-backs is waited for")
        lifecycle.release(Self.lease("a"))
        #expect(lifecycle.drainStep(deadlinePassed: true, stopEarlyOnImmediate: false) == .drained)
        lifecycle.beginFinishing()
        #expect(lifecycle.phase == .finishing)
    }

    // MARK: TaskSettlement

    @Test func theHandlersOwnOutcomeStandsWithoutAStop() {
        let now = ContinuousClock.now
        var settlement = TaskSettlement(deadline: now + .seconds(10))
        #expect(settlement.nextCheck == now + .seconds(10))
        #expect(settlement.check(now: now) == TaskSettlement.Check.none)
        #expect(settlement.handlerDidReturn() == .handlerOutcome)
        #expect(settlement.isSettled)
        #expect(settlement.nextCheck == nil)
    }

    @Test func aStopDecidedFirstWinsOverTheHandlersOutcome() {
        let now = ContinuousClock.now
        var settlement = TaskSettlement(deadline: now + .seconds(10))
        #expect(settlement.requestStop(.cancelled, stopTimeout: .seconds(5), now: now) == .cancelHandler)
        #expect(settlement.requestStop(.timeout, stopTimeout: .seconds(5), now: now) == .ignore, "the first stop stands")
        #expect(settlement.nextCheck == now + .seconds(5))
        #expect(settlement.handlerDidReturn() == .stopOutcome(.cancelled))
    }

    /// A cancellation (or timeout) that arrives once the handler has returned changes nothing:
    /// the handler's outcome is being recorded.
    @Test func aStopAfterTheHandlerReturnedIsIgnored() {
        let now = ContinuousClock.now
        var settlement = TaskSettlement(deadline: now + .seconds(10))
        #expect(settlement.handlerDidReturn() == .handlerOutcome)
        #expect(settlement.requestStop(.cancelled, stopTimeout: .seconds(5), now: now) == .ignore)
        #expect(settlement.stop == nil)
        #expect(settlement.check(now: now + .seconds(60)) == TaskSettlement.Check.none)
    }

    @Test func aTimeoutIsDueAtTheDeadline() {
        let now = ContinuousClock.now
        var settlement = TaskSettlement(deadline: now + .seconds(10))
        #expect(settlement.check(now: now + .seconds(9)) == TaskSettlement.Check.none)
        #expect(settlement.check(now: now + .seconds(10)) == .timedOut)
        #expect(settlement.requestStop(.timeout, stopTimeout: .seconds(2), now: now + .seconds(10)) == .cancelHandler)
        #expect(settlement.check(now: now + .seconds(11)) == TaskSettlement.Check.none, "within the stop timeout")
        #expect(settlement.handlerDidReturn() == .stopOutcome(.timeout))
    }

    /// A handler that ignores its stop: the outcome is reported at the stop deadline, once; its
    /// later return reports nothing.
    @Test func anOverdueStopIsReportedOnceWithoutTheHandler() {
        let now = ContinuousClock.now
        var settlement = TaskSettlement(deadline: now + .seconds(10))
        _ = settlement.requestStop(.shutdown, stopTimeout: .seconds(2), now: now)
        #expect(settlement.check(now: now + .seconds(1)) == TaskSettlement.Check.none)
        #expect(settlement.check(now: now + .seconds(2)) == .reportOverdueStop(.shutdown))
        #expect(settlement.check(now: now + .seconds(3)) == TaskSettlement.Check.none)
        #expect(settlement.nextCheck == nil)
        #expect(settlement.handlerDidReturn() == .nothing)
    }

    // MARK: OutcomeRules

    @Test func handlerResultsBecomeCompletionsUnlessTooLarge() {
        let task = Self.claimed()
        #expect(OutcomeRules.returned(Array("1".utf8), task, maxResultBytes: 10) == .completion(Completion(lease: task.lease, result: Array("1".utf8))))
        guard case .failure(let failure) = OutcomeRules.returned(Array(repeating: 0x31, count: 11), task, maxResultBytes: 10) else {
            Issue.record("an oversized result must fail")
            return
        }
        #expect(failure.mode == .final)
        #expect(failure.reason == "result_too_large")
    }

    @Test func thrownErrorsMapToSkipPermanentRetryOrBackoff() {
        let task = Self.claimed()
        #expect(OutcomeRules.threw(HandlerError.skip("nothing"), task) == .completion(Completion(lease: task.lease, result: Array("null".utf8), skipped: true)))
        let failures: [(any Error, Failure.Mode, String)] = [
            (HandlerError.permanent("no", reason: "invalid_input"), .final, "invalid_input"),
            (HandlerError.retry("later", after: .seconds(30), reason: "rate_limited"), .retry(delay: .seconds(30)), "rate_limited"),
            (HandlerError.retry("later"), .retry(delay: .seconds(7)), "error"),
            (CancellationError(), .retry(delay: .seconds(7)), "error"),
            (PayloadDecodingFailure(message: "not an Int"), .final, "bad_payload"),
        ]
        for (error, mode, reason) in failures {
            guard case .failure(let failure) = OutcomeRules.threw(error, task) else {
                Issue.record("\(error) must fail the run")
                continue
            }
            #expect(failure.mode == mode, "\(error)")
            #expect(failure.reason == reason, "\(error)")
        }
    }

    @Test func stopsMapToTimeoutCancelHandBackOrNothing() {
        let task = Self.claimed()
        func mode(_ reason: StopReason) -> Failure.Mode? {
            guard case .failure(let failure) = OutcomeRules.stopped(reason, task, timeout: .seconds(10), workerID: "w") else { return nil }
            return failure.mode
        }
        #expect(mode(.timeout) == .retry(delay: .seconds(7)))
        #expect(mode(.cancelled) == .cancelled)
        #expect(mode(.shutdown) == .handBack)
        #expect(OutcomeRules.stopped(.leaseLost, task, timeout: .seconds(10), workerID: "w") == nil)
        guard case .failure(let unstarted) = OutcomeRules.handedBackUnstarted(task, workerID: "w") else {
            Issue.record("an unstarted task is handed back")
            return
        }
        #expect(unstarted.mode == .handBack)
        #expect(unstarted.reason == "shutdown")
    }

    @Test func heartbeatAnswersDecideStops() {
        #expect(OutcomeRules.heartbeatAnswer(.extended, settled: false) == nil)
        #expect(OutcomeRules.heartbeatAnswer(.cancelRequested, settled: false) == .cancelled)
        #expect(OutcomeRules.heartbeatAnswer(.refused(.staleToken), settled: false) == .leaseLost)
        #expect(OutcomeRules.heartbeatAnswer(.refused(.invalidState), settled: true) == nil, "its outcome's write may have landed first")
    }

    // MARK: ClaimDecisions

    @Test func drainModeStopsOnlyAfterACheckAndASecondEmptyClaim() {
        var decisions = ClaimDecisions(exitWhenDrained: true)
        #expect(decisions.claimed(0, stopping: false) == .checkDrained)
        #expect(decisions.drainChecked(nothingLeft: false) == .waitForWork)
        #expect(decisions.claimed(0, stopping: false) == .checkDrained)
        #expect(decisions.drainChecked(nothingLeft: true) == .claimAgain)
        #expect(decisions.claimed(2, stopping: false) == .startTasks, "a task released in between disarms")
        #expect(decisions.claimed(0, stopping: false) == .checkDrained)
        #expect(decisions.drainChecked(nothingLeft: true) == .claimAgain)
        #expect(decisions.claimed(0, stopping: false) == .stopDrained)
    }

    @Test func outsideDrainModeAnEmptyClaimWaitsForWork() {
        var decisions = ClaimDecisions(exitWhenDrained: false)
        #expect(decisions.claimed(0, stopping: false) == .waitForWork)
        #expect(decisions.claimed(0, stopping: true) == .stopClaiming)
        #expect(decisions.claimed(3, stopping: true) == .startTasks, "claimed tasks are RUNNING: start or hand back")
    }

    // MARK: MaintenanceSchedule

    @Test func theLoopWakesForTheNextPassOrAnEarlierDueTime() {
        let now = ContinuousClock.now
        var schedule = MaintenanceSchedule(interval: .seconds(1), now: now)
        #expect(schedule.next.at == now + .seconds(1))
        #expect(schedule.next.action == .pass)
        let earlier = schedule.learned(due: now + .milliseconds(100))
        #expect(earlier, "a retry due before the pass wakes the loop early")
        #expect(schedule.next.at == now + .milliseconds(100))
        #expect(schedule.next.action == .promote)
        let later = schedule.learned(due: now + .milliseconds(500))
        #expect(later == false, "a later due time changes nothing")
        #expect(schedule.next.at == now + .milliseconds(100))
        schedule.promoteDone(at: now + .milliseconds(100), nextDue: now + .seconds(3))
        #expect(schedule.next.action == .pass, "the next due time is after the pass")
        let afterPass = schedule.learned(due: now + .seconds(2))
        #expect(afterPass == false, "still after the pass")
        schedule.passDone(at: now + .milliseconds(1500), nextDue: nil)
        #expect(schedule.next.at == now + .seconds(2), "another worker held the lock: the known due time stays")
        #expect(schedule.next.action == .promote)
        schedule.passDone(at: now + .milliseconds(2500), nextDue: .some(nil))
        #expect(schedule.next.at == now + .milliseconds(3500))
        #expect(schedule.next.action == .pass, "the pass reported nothing delayed")
    }

    /// A due time in the past (more due than one promote takes, or clock offset) must not make
    /// the loop spin at full speed.
    @Test func aDueTimeInThePastIsLookedAtAgainSoonNotInALoop() {
        let now = ContinuousClock.now
        var schedule = MaintenanceSchedule(interval: .seconds(1), now: now)
        schedule.promoteDone(at: now, nextDue: now - .milliseconds(50))
        #expect(schedule.next.at > now)
        #expect(schedule.next.action == .promote)
    }
}
