/// What the claim loop does after a claim returned, as a value type without I/O.
///
/// In drain mode (`exitWhenDrained`) an empty claim is not enough to stop: the worker first
/// checks that nothing runs anywhere in the namespace and nothing is due soon (a running task
/// may release dependents), then claims once more; only that second empty claim ends the run,
/// so a task released in between is still found.
struct ClaimDecisions: Equatable {
    let exitWhenDrained: Bool
    /// Drain mode: the last look found nothing left anywhere; one more empty claim stops.
    private(set) var drainArmed = false

    init(exitWhenDrained: Bool) {
        self.exitWhenDrained = exitWhenDrained
    }

    enum AfterClaim: Equatable {
        /// Start (or hand back) the claimed tasks, then claim again.
        case startTasks
        /// The worker is stopping: leave the loop.
        case stopClaiming
        /// Drain mode: check whether anything is left to do.
        case checkDrained
        /// Drain mode: two looks found nothing; stop the worker.
        case stopDrained
        /// Block until a wake-up (or the idle wait) and claim again.
        case waitForWork
        /// A quarantined suspect waits for this worker: claim again once every slot is free.
        case drainForSuspect
    }

    mutating func claimed(_ count: Int, mode: ClaimMode = .normal, stopping: Bool) -> AfterClaim {
        if count > 0 {
            drainArmed = false
            return .startTasks
        }
        if stopping { return .stopClaiming }
        if mode == .drain {
            drainArmed = false
            return .drainForSuspect
        }
        guard exitWhenDrained else { return .waitForWork }
        return drainArmed ? .stopDrained : .checkDrained
    }

    /// The drain check's answer: `true` arms the stop and claims again at once.
    enum AfterDrainCheck: Equatable {
        case claimAgain
        case waitForWork
    }

    mutating func drainChecked(nothingLeft: Bool) -> AfterDrainCheck {
        guard nothingLeft else { return .waitForWork }
        drainArmed = true
        return .claimAgain
    }
}
