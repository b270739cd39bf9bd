/// Who decides how one claimed task ends, as a value type without I/O.
///
/// Exactly one outcome is reported per claim. It is the handler's own, unless a stop (cancel,
/// timeout, shutdown, lost lease) was decided first; then the stop's outcome is reported once
/// the handler has returned, or once the stop deadline passes if it does not. The races this
/// settles: a cancellation or timeout arriving while the handler returns, a stop arriving after
/// the outcome is already being recorded, a handler that ignores its stop. ``RunningTask`` keeps
/// it inside a `Mutex` and executes the actions.
struct TaskSettlement: Equatable {
    /// When the task's own timeout passes.
    let deadline: ContinuousClock.Instant
    private(set) var stop: StopReason?
    /// After a stop: when the outcome is reported even if the handler is still running.
    private(set) var stopDeadline: ContinuousClock.Instant?
    private(set) var handlerReturned = false
    /// Someone took the job of reporting the outcome (the handler's end, or an overdue stop).
    private(set) var outcomeClaimed = false

    init(deadline: ContinuousClock.Instant) {
        self.deadline = deadline
    }

    enum StopAction: Equatable {
        /// Cancel the handler's `Task` (now, or as soon as it is attached).
        case cancelHandler
        /// Too late or already decided: nothing to do.
        case ignore
    }

    /// Decides that the handler must stop, unless a stop was already decided or the handler has
    /// returned (its own outcome stands: a cancellation during completion changes nothing).
    mutating func requestStop(_ reason: StopReason, stopTimeout: Duration, now: ContinuousClock.Instant) -> StopAction {
        guard stop == nil, !outcomeClaimed, !handlerReturned else { return .ignore }
        stop = reason
        stopDeadline = now + stopTimeout
        return .cancelHandler
    }

    enum Report: Equatable {
        /// Report what the handler returned or threw.
        case handlerOutcome
        /// Report the stop's outcome (a failure per reason; nothing for a lost lease).
        case stopOutcome(StopReason)
        /// The stop's outcome was already reported when the handler overran its stop timeout.
        case nothing
    }

    /// The handler returned: what to report.
    mutating func handlerDidReturn() -> Report {
        handlerReturned = true
        guard !outcomeClaimed else { return .nothing }
        outcomeClaimed = true
        if let stop { return .stopOutcome(stop) }
        return .handlerOutcome
    }

    enum Check: Equatable {
        /// Nothing due.
        case none
        /// The task's timeout passed while it runs: stop it (reason `timeout`).
        case timedOut
        /// The stop deadline passed and the handler still runs: report the stop's outcome now.
        case reportOverdueStop(StopReason)
    }

    /// The deadline watcher's look at this task at `now`.
    mutating func check(now: ContinuousClock.Instant) -> Check {
        guard !handlerReturned, !outcomeClaimed else { return .none }
        if let stop, let stopDeadline {
            guard now >= stopDeadline else { return .none }
            outcomeClaimed = true
            return .reportOverdueStop(stop)
        }
        return now >= deadline ? .timedOut : .none
    }

    /// The next instant the deadline watcher must look at this task; `nil` once settled.
    var nextCheck: ContinuousClock.Instant? {
        if handlerReturned || outcomeClaimed { return nil }
        return stopDeadline ?? deadline
    }

    var isSettled: Bool { outcomeClaimed }
}
