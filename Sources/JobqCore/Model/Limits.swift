/// What one installation accepts. Defaults suit most users; every bound exists so that one
/// bad submission cannot hurt the broker or the workers.
public struct Limits: Sendable, Hashable {
    /// Largest payload or result, in bytes (default 1 MiB).
    public var maxPayloadBytes: Int = 1 << 20
    /// Deepest JSON nesting accepted in a payload.
    public var maxPayloadDepth: Int = 64
    /// Most prerequisites one task may have.
    public var maxPrerequisites: Int = 10_000
    /// Most tasks in one submission (one script call).
    public var maxTasksPerSubmission: Int = 50_000
    /// Most tasks one submit.lua call writes: a run with more is submitted in several calls of
    /// this many (the first creates it marked `building`, the last seals it; docs/scripts.md,
    /// "submit"), so no call holds Redis long (measured in BoundedScriptTests: about 25–50 µs a task, so 100 stay near 2.5–5 ms, in line with the other bounded calls).
    package var tasksPerSubmitCall: Int = 100
    /// Allowed `maxAttempts`.
    public var attempts: ClosedRange<Int> = 1...1_000
    /// Allowed handler timeouts.
    public var timeout: ClosedRange<Duration> = .milliseconds(1)...(.seconds(7 * 24 * 3600))
    /// Allowed delays before a task may first run.
    public var delay: ClosedRange<Duration> = .zero...(.seconds(366 * 24 * 3600))
    /// Allowed retention of finished tasks.
    public var resultTTL: ClosedRange<Duration> = .seconds(1)...(.seconds(366 * 24 * 3600))

    /// Allowed `maxSnoozes` (0: a snooze is always refused, and fails the attempt).
    public var snoozes: ClosedRange<Int> = 0...100_000

    public init() {}

    /// How long a handler may snooze its task (`HandlerError.snooze`, `JOBQ_SNOOZE`): at least a
    /// millisecond (a zero snooze would spin), at most a year and a day, as delays.
    public static let snoozeDelay: ClosedRange<Duration> = .milliseconds(1)...(.seconds(366 * 24 * 3600))
    /// Largest checkpoint a handler may save, in bytes: a checkpoint is a resume point (an
    /// offset, a cursor), read on every claim of the task, not a place for data.
    public static let checkpointMaxBytes = 64 * 1024
    /// Largest signal payload (JSON), in bytes: a signal carries a decision or a reference,
    /// handed to the handler on every claim while it is kept.
    public static let signalMaxBytes = 64 * 1024
    /// Most signals (and answers) one task keeps: a bound on what each claim reads.
    public static let signalsKeptMax = 32
    /// Longest question a handler may ask, and most choices it may offer.
    public static let questionMaxBytes = 2048
    public static let choicesMax = 32

    /// Most tasks one claim call parks (over a concurrency limit, a rate, a run's window) or
    /// expires: each costs a few writes, so a backlog held back is parked over several calls,
    /// each well under the 10 ms bar; such a call wakes its queue's claimers to go on.
    public static let parksPerClaim = 64

    /// Most rate keys one promote call wakes (each queues up to 64 parked tasks): a bound on
    /// the call's work; the maintenance pass calls again while it is reached.
    public static let rateWakeKeys = 20

    /// Most idle rate logs (`rate_logs`) one promote call deletes or re-scores (a few commands
    /// each): the sweep that replaces a PEXPIRE per key per claim stays far under 10 ms.
    public static let rateLogSweep = 100

    /// Most tasks one spawn (`HandlerContext.spawn`, `JOBQ_SPAWN`) may create: wider fan-outs
    /// spawn in several keys, or map (`too_many_tasks` past it).
    public static let spawnMaxTasks = 10_000

    /// A run still `building` this long after its latest chunk was abandoned by its submitter
    /// (the process died mid-way): the maintenance pass ends it FAILED with reason
    /// `submit_abandoned` (docs/guarantees.md).
    public static let submitAbandonedMilliseconds = 5 * 60 * 1000

    /// The furthest a run's deadline may be (a year and a day, as delays).
    public static let maxRunDeadline: Duration = .seconds(366 * 24 * 3600)
}
