/// A running task whose lease had expired, and the state the reaper moved it to.
public struct ReapedTask: Sendable, Hashable {
    public let id: String
    public let state: TaskState
}

/// What a promote pass did.
public struct PromoteResult: Sendable, Hashable {
    public let promoted: Int
    /// Finished tasks whose retention had passed, deleted.
    public let deleted: Int
    /// When the next delayed task, task expiry, run deadline, signal timeout or rate key wake
    /// falls due (Redis time, ms), if any.
    public let nextDue: Int64?
    /// Runs stopped because their deadline passed.
    public let runsStopped: Int
    /// Tasks that ended CANCELLED with reason `expired` (not started by their expiry).
    public let expired: Int
    /// Entries of the expiry index taken: those expired, and those of tasks that had started or
    /// ended meanwhile (dropped). Decides whether another call is needed.
    package let expiryEntries: Int
    /// Tasks that ended FAILED with reason `signal_timeout` (their wait timed out).
    public let signalTimeouts: Int
    /// Entries of the signal timeout index taken (decides whether another call is needed).
    package let signalTimeoutEntries: Int
    /// Rate keys whose wake time had come, taken (decides whether another call is needed).
    package var rateKeys: Int = 0
    /// Entries of the rate-log index (`rate_logs`) taken: logs deleted or re-scored (decides
    /// whether another call is needed, so a backlog of idle logs is swept within one pass).
    package var rateLogs: Int = 0

    public init(promoted: Int, deleted: Int, nextDue: Int64?, runsStopped: Int = 0, expired: Int = 0) {
        self.init(promoted: promoted, deleted: deleted, nextDue: nextDue, runsStopped: runsStopped, expired: expired, expiryEntries: expired)
    }

    package init(promoted: Int, deleted: Int, nextDue: Int64?, runsStopped: Int, expired: Int, expiryEntries: Int,
                 signalTimeouts: Int = 0, signalTimeoutEntries: Int = 0, rateKeys: Int = 0, rateLogs: Int = 0) {
        self.rateKeys = rateKeys
        self.rateLogs = rateLogs
        self.signalTimeouts = signalTimeouts
        self.signalTimeoutEntries = signalTimeoutEntries
        self.promoted = promoted
        self.deleted = deleted
        self.nextDue = nextDue
        self.runsStopped = runsStopped
        self.expired = expired
        self.expiryEntries = expiryEntries
    }
}

/// What one maintenance pass did.
public struct MaintenanceResult: Sendable, Hashable {
    /// Running tasks whose lease had expired, with their new state.
    public let reaped: [ReapedTask]
    public let promote: PromoteResult
    /// The runs the pass's due schedule ticks submitted (or found submitted by another process).
    public var scheduledRuns: [String] = []
    /// Schedules that could not fire (their message names them); they stay due for the next pass.
    public var scheduleErrors: [JobqError] = []
}
