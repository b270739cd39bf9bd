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

/// One claimed task from claim to recorded outcome: its handler's `Task`, its deadline, and who
/// decided how it ends.
///
/// Exactly one outcome is reported per claim. It is the handler's own, unless a stop (cancel,
/// timeout, shutdown, lost lease) was decided first; then the stop's outcome is reported once the
/// handler has returned, or after `stopTimeout` if it does not.
final class RunningTask: Sendable {
    let claimed: ClaimedTask
    let started: ContinuousClock.Instant
    /// When the task's own timeout passes.
    let deadline: ContinuousClock.Instant
    let reporter: TaskReporter

    private struct State {
        var handle: Task<Void, Never>?
        var stop: StopReason?
        /// After a stop: when the outcome is reported even if the handler is still running.
        var stopDeadline: ContinuousClock.Instant?
        var handlerReturned = false
        var outcomeClaimed = false
    }

    private let state = Mutex(State())

    init(claimed: ClaimedTask, started: ContinuousClock.Instant, reporter: TaskReporter) {
        self.claimed = claimed
        self.started = started
        self.reporter = reporter
        let timeout = claimed.timeout > .zero ? claimed.timeout : TaskSpec.defaultTimeout
        self.deadline = started + timeout
    }

    var lease: TaskLease { claimed.lease }

    /// Attaches the handler's task; cancels it at once if a stop was decided before.
    func attach(_ handle: Task<Void, Never>) {
        let cancelNow = state.withLock { state -> Bool in
            state.handle = handle
            return state.stop != nil
        }
        if cancelNow { handle.cancel() }
    }

    /// Decides that the handler must stop; false if a stop was already decided or the outcome
    /// is already settled. Cancels the handler's task.
    @discardableResult
    func requestStop(_ reason: StopReason, stopTimeout: Duration, now: ContinuousClock.Instant) -> Bool {
        let handle = state.withLock { state -> Task<Void, Never>?? in
            guard state.stop == nil, !state.outcomeClaimed, !state.handlerReturned else { return nil }
            state.stop = reason
            state.stopDeadline = now + stopTimeout
            return .some(state.handle)
        }
        guard let handle else { return false }
        handle?.cancel()
        return true
    }

    var stopReason: StopReason? { state.withLock { $0.stop } }

    /// The handler returned. Returns what to report: `.handler` (its own outcome), `.stop(reason)`,
    /// or `nil` when the outcome was already reported (stop timeout passed first).
    func handlerReturned() -> Settlement? {
        state.withLock { state in
            state.handlerReturned = true
            guard !state.outcomeClaimed else { return nil }
            state.outcomeClaimed = true
            if let stop = state.stop { return .stop(stop) }
            return .handler
        }
    }

    /// Called by the deadline watcher: if the stop deadline passed and the handler still runs,
    /// claims the outcome for the stop reason.
    func claimOverdueStop(now: ContinuousClock.Instant) -> StopReason? {
        state.withLock { state in
            guard let stop = state.stop, let stopDeadline = state.stopDeadline, now >= stopDeadline,
                !state.outcomeClaimed, !state.handlerReturned
            else { return nil }
            state.outcomeClaimed = true
            return stop
        }
    }

    /// The next instant the deadline watcher must look at this task, if any.
    func nextCheck() -> ContinuousClock.Instant? {
        state.withLock { state in
            if state.handlerReturned || state.outcomeClaimed { return nil }
            if let stopDeadline = state.stopDeadline { return stopDeadline }
            return deadline
        }
    }

    var isSettled: Bool { state.withLock { $0.outcomeClaimed } }

    enum Settlement {
        case handler
        case stop(StopReason)
    }
}
