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
        var settlement: TaskSettlement
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

    /// Attaches the handler's task; cancels it at once if a stop was decided before.
    func attach(_ handle: Task<Void, Never>) {
        let cancelNow = state.withLock { state -> Bool in
            state.handle = handle
            return state.settlement.stop != nil
        }
        if cancelNow { handle.cancel() }
    }

    /// Decides that the handler must stop; false if a stop was already decided or the outcome
    /// is already settled. Cancels the handler's task.
    @discardableResult
    func requestStop(_ reason: StopReason, stopTimeout: Duration, now: ContinuousClock.Instant) -> Bool {
        let (action, handle) = state.withLock { state in
            (state.settlement.requestStop(reason, stopTimeout: stopTimeout, now: now), state.handle)
        }
        guard action == .cancelHandler else { return false }
        handle?.cancel()
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
