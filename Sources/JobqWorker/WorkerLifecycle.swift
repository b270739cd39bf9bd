import JobqCore

/// The worker's phase, stop request, held leases and busy slots, and every decision about them:
/// whether to start, whether a claim's tasks run or go back, when draining is over, when the
/// engine may stop. A value type without I/O: the ``Worker`` keeps it inside a `Mutex`, calls a
/// mutating method, and executes the action it returns (the shape of valkey-swift's connection
/// state machines). `Run` is what the worker keeps per held lease (a ``RunningTask``; anything
/// in tests).
struct WorkerLifecycle<Run> {
    enum Phase: Comparable {
        /// `run()` not called yet.
        case created
        /// Claiming and running tasks.
        case running
        /// A stop was requested: no more claims; running tasks finish or are handed back.
        case draining
        /// Every lease is settled (or given up): the loops are being stopped.
        case finishing
        case stopped
    }

    enum StopRequest: Comparable {
        /// Drain mode found nothing left to do.
        case drained
        /// Stop claiming, let running tasks finish within the grace period, hand back the rest.
        case graceful
        /// Hand back everything now.
        case immediate
    }

    let concurrency: Int
    private(set) var phase: Phase = .created
    private(set) var stop: StopRequest?
    /// Every lease this worker holds: from claim until its outcome is recorded (or lost).
    private(set) var held: [TaskLease: Run] = [:]
    /// Handlers executing (slots in use). A handler that ignored its stop keeps its slot after
    /// its lease was settled, so this can exceed `held.count`.
    private(set) var busy = 0
    /// A quarantined suspect runs here alone (a claim in mode `.alone`): nothing else is claimed
    /// until it returns, so that if this process dies, the death is known to be that task's.
    private(set) var runningAlone = false
    /// A claim said a suspect waits and this worker was picked to run it (mode `.drain`): no
    /// claims until every slot is free, then one as an idle worker.
    private(set) var drainingForSuspect = false

    init(concurrency: Int) {
        self.concurrency = concurrency
    }

    /// Whether the worker has stopped (or is stopping) claiming.
    var isStopping: Bool { phase != .running || stop != nil }

    // MARK: Starting and stopping

    enum StartAction: Equatable {
        case run
        /// `run()` was called before: a worker runs once.
        case refuse
    }

    mutating func start() -> StartAction {
        guard phase == .created else { return .refuse }
        phase = .running
        return .run
    }

    enum StopAction: Equatable {
        /// Nothing changed (an equal or stronger request came first).
        case none
        /// Wake everything that waits on the stop: the engine, the claim loop, the drain wait.
        case wakeWaiters
    }

    /// Records a stop request; requests only escalate (drained < graceful < immediate).
    mutating func requestStop(_ request: StopRequest) -> StopAction {
        if let current = stop, current >= request { return .none }
        stop = request
        return .wakeWaiters
    }

    /// The engine saw the stop request: no more claims. Returns the request it acts on.
    mutating func beginDraining() -> StopRequest {
        if phase < .draining { phase = .draining }
        return stop ?? .graceful
    }

    /// What the engine does while tasks are still held during shutdown.
    enum DrainStep: Equatable {
        /// Nothing is held any more.
        case drained
        /// Wait (until something changes or the deadline).
        case wait
        /// Stop waiting: hand back (or give up on) what is still held.
        case giveUp
    }

    /// One look at the shutdown: `deadlinePassed` is the grace period (or stop timeout) being
    /// over; with `stopEarlyOnImmediate`, an immediate stop ends the wait at once.
    func drainStep(deadlinePassed: Bool, stopEarlyOnImmediate: Bool) -> DrainStep {
        if held.isEmpty { return .drained }
        if stopEarlyOnImmediate && stop == .immediate { return .giveUp }
        return deadlinePassed ? .giveUp : .wait
    }

    /// The leases are settled or given up: the background loops may stop.
    mutating func beginFinishing() {
        if phase < .finishing { phase = .finishing }
    }

    mutating func finished() {
        phase = .stopped
    }

    // MARK: Claims

    enum ClaimAction: Equatable {
        /// Claim up to this many tasks; `idle`: no handler runs now (so the claim may hand out a
        /// quarantined suspect to run alone).
        case claim(Int, idle: Bool)
        /// Every slot is busy: wait for one to free up.
        case waitForSlot
        /// The worker stops claiming.
        case stopClaiming
    }

    /// How many tasks to ask for now: the free slots, at most `batchLimit`; none while a suspect
    /// runs alone or the worker drains for one.
    func claimAction(batchLimit: Int) -> ClaimAction {
        guard phase == .running, stop == nil else { return .stopClaiming }
        if (runningAlone || drainingForSuspect) && busy > 0 { return .waitForSlot }
        let free = concurrency - busy
        guard free > 0 else { return .waitForSlot }
        return .claim(max(1, min(free, batchLimit)), idle: busy == 0)
    }

    /// What a claim said about how to run its tasks (before ``accept(_:)``).
    mutating func claimReturned(mode: ClaimMode, idle: Bool) {
        switch mode {
        case .alone:
            runningAlone = true
            drainingForSuspect = false
        case .drain:
            drainingForSuspect = true
        case .normal:
            if idle { drainingForSuspect = false }
        }
    }

    enum AcceptAction: Equatable {
        /// Start a handler for each.
        case run
        /// An immediate stop came while the claim was in flight: hand them back unstarted.
        case handBack
    }

    /// A claim returned `runs` (already RUNNING in the store, so they are held either way).
    /// Tasks whose claim was in flight when a graceful stop began still run, within the grace
    /// period; an immediate stop (or a later phase) hands them back.
    mutating func accept(_ runs: [(TaskLease, Run)]) -> AcceptAction {
        for (lease, run) in runs { held[lease] = run }
        guard phase <= .draining, stop != .immediate else { return .handBack }
        busy += runs.count
        return .run
    }

    /// A handler returned: its slot is free. Returns the slots in use.
    mutating func handlerReturned() -> Int {
        busy = max(0, busy - 1)
        if busy == 0 { runningAlone = false }
        return busy
    }

    /// The lease's outcome was recorded, refused, or will not be recorded (lost).
    mutating func release(_ lease: TaskLease) {
        held[lease] = nil
    }
}
