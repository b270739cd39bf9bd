/// When the maintenance loop wakes and what it does then, as a value type without I/O.
///
/// Two clocks drive it: the fleet-wide maintenance pass every `interval` (reap expired leases,
/// promote due delayed tasks; one worker of the fleet wins the lock), and the next due time of a
/// delayed task (a retry backoff, a submit's delay). Waiting only for the pass would start a
/// 50 ms retry up to a whole interval late; so the loop also wakes at the next due time and
/// runs just `promote` (idempotent, cheap, no lock), which pushes the task's wake-up token and
/// so wakes the idle claim loops at once.
///
/// Due times come from the store (the next due time a promote reports, on the store's clock,
/// turned into a local instant by the caller) and from this worker's own retries (the delay it
/// just recorded). Either can only make the wait shorter.
struct MaintenanceSchedule: Equatable {
    typealias Instant = ContinuousClock.Instant

    let interval: Duration
    private(set) var nextPass: Instant
    /// The earliest known due time of a delayed task, if any.
    private(set) var nextDue: Instant?

    init(interval: Duration, now: Instant) {
        self.interval = interval
        self.nextPass = now + interval
    }

    enum Action: Equatable {
        /// The interval is over: try the lock, reap and promote.
        case pass
        /// A delayed task falls due: promote.
        case promote
    }

    /// When to wake next, and what to do then.
    var next: (at: Instant, action: Action) {
        if let nextDue, nextDue < nextPass { return (nextDue, .promote) }
        return (nextPass, .pass)
    }

    /// The pass ran (or another worker holds the lock) at `now`; `nextDue` is what its promote
    /// reported, if it ran one.
    mutating func passDone(at now: Instant, nextDue due: Instant??) {
        nextPass = now + interval
        if let due { nextDue = due }
        dropPassedDue(now: now)
    }

    /// A promote ran at `now` and reported `due` as the next due time.
    mutating func promoteDone(at now: Instant, nextDue due: Instant?) {
        nextDue = due
        dropPassedDue(now: now)
    }

    /// A delayed task is known to fall due at `due` (e.g. a retry this worker scheduled).
    /// Returns whether that makes the loop wake earlier than it planned (then nudge it).
    mutating func learned(due: Instant) -> Bool {
        let before = next.at
        if let current = nextDue, current <= due { return false }
        nextDue = due
        return due < before
    }

    /// A promote that reported a due time in the past (the clock offset is approximate) must
    /// not make the loop spin: look again one millisecond later at the earliest.
    private mutating func dropPassedDue(now: Instant) {
        if let due = nextDue, due <= now { nextDue = now + .milliseconds(1) }
    }
}
