import JobqCore
import Synchronization

/// Why a worker told a running handler to stop.
public enum StopReason: String, Sendable, Hashable {
    /// Someone cancelled the task (learned from a heartbeat reply).
    case cancelled
    /// The task's timeout passed.
    case timeout
    /// The worker is shutting down and its grace period is over: the task is handed back.
    case shutdown
    /// The lease was lost (expired and reaped, or re-claimed elsewhere): nothing is reported.
    case leaseLost = "lease_lost"
}

/// One claimed task from claim to recorded outcome: its handler's `Task` and its
/// ``TaskSettlement`` (who decides how it ends), behind one lock. The decisions are the
/// settlement's; this class only executes them (cancels the handler's task).
final class RunningTask: Sendable {
    let claimed: ClaimedTask
    let started: ContinuousClock.Instant
    /// When the task's own timeout passes.
    let deadline: ContinuousClock.Instant
    let reporter: TaskReporter

    private struct State {
        var handle: Task<Void, Never>?
        /// The batch the task runs in, if its handler takes batches (instead of `handle`).
        var batch: BatchHandle?
        var settlement: TaskSettlement
        /// `waitForChildren` returned: the handler read its ended children (``Completion/childrenRead``).
        var childrenRead = false
    }

    private let state: Mutex<State>

    init(claimed: ClaimedTask, started: ContinuousClock.Instant, reporter: TaskReporter) {
        self.claimed = claimed
        self.started = started
        self.reporter = reporter
        let timeout = claimed.timeout > .zero ? claimed.timeout : TaskSpec.defaultTimeout
        self.deadline = started + timeout
        self.state = Mutex(State(settlement: TaskSettlement(deadline: started + timeout)))
    }

    var lease: TaskLease { claimed.lease }

    /// The handler read the results of its spawned run, which had ended.
    var childrenRead: Bool {
        get { state.withLock { $0.childrenRead } }
    }

    func markChildrenRead() {
        state.withLock { $0.childrenRead = true }
    }

    /// Attaches the handler's task; cancels it at once if a stop was decided before.
    func attach(_ handle: Task<Void, Never>) {
        let cancelNow = state.withLock { state -> Bool in
            state.handle = handle
            return state.settlement.stop != nil
        }
        if cancelNow { handle.cancel() }
    }

    /// Attaches the batch the task runs in; counts a stop decided before as one of its stops.
    func attach(_ batch: BatchHandle) {
        let stoppedBefore = state.withLock { state -> Bool in
            state.batch = batch
            return state.settlement.stop != nil
        }
        if stoppedBefore { batch.memberStopped() }
    }

    /// Decides that the handler must stop; false if a stop was already decided or the outcome
    /// is already settled. Cancels the handler's task.
    @discardableResult
    func requestStop(_ reason: StopReason, stopTimeout: Duration, now: ContinuousClock.Instant) -> Bool {
        let (action, handle, batch) = state.withLock { state in
            (state.settlement.requestStop(reason, stopTimeout: stopTimeout, now: now), state.handle, state.batch)
        }
        guard action == .cancelHandler else { return false }
        handle?.cancel()
        batch?.memberStopped()
        return true
    }

    var stopReason: StopReason? { state.withLock { $0.settlement.stop } }

    /// The handler returned: what to report.
    func handlerReturned() -> TaskSettlement.Report {
        state.withLock { $0.settlement.handlerDidReturn() }
    }

    /// The deadline watcher's look at `now`.
    func check(now: ContinuousClock.Instant) -> TaskSettlement.Check {
        state.withLock { $0.settlement.check(now: now) }
    }

    /// The next instant the deadline watcher must look at this task, if any.
    func nextCheck() -> ContinuousClock.Instant? {
        state.withLock { $0.settlement.nextCheck }
    }

    var isSettled: Bool { state.withLock { $0.settlement.isSettled } }
}

/// The `Task` of one running batch, cancelled once every task in it was told to stop: one task's
/// cancellation or timeout must not stop the others (its handler sees it per task, and its
/// outcome is the stop's), but a batch nobody waits for any more should not run on.
final class BatchHandle: Sendable {
    private struct State {
        var handle: Task<Void, Never>?
        var stopped = 0
    }

    let members: Int
    private let state = Mutex(State())

    init(members: Int) {
        self.members = members
    }

    func attach(_ handle: Task<Void, Never>) {
        let cancelNow = state.withLock { state -> Bool in
            state.handle = handle
            return state.stopped >= members
        }
        if cancelNow { handle.cancel() }
    }

    func memberStopped() {
        let handle = state.withLock { state -> Task<Void, Never>? in
            state.stopped += 1
            return state.stopped == members ? state.handle : nil
        }
        handle?.cancel()
    }
}
