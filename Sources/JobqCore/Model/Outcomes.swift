/// What happened to one task of a submission.
public struct SubmittedTask: Sendable, Hashable {
    public let id: String
    /// PENDING, or CANCELLED when a prerequisite had already failed.
    public let state: TaskState?
}

/// The reply to a submission.
public struct SubmitResult: Sendable, Hashable {
    /// `false` when an idempotency key matched an earlier identical submission.
    public let created: Bool
    public let tasks: [SubmittedTask]
    /// The run's id (a new run, or the first one an idempotency key returned), or the label of
    /// standalone tasks.
    public let workflow: String?
    /// The run the submission created (or returned), when it was a run.
    public let run: String?
    /// Why nothing was created, when ``created`` is false: an idempotent replay, or a held
    /// unique key (deduplicated, debounced, throttled: ``tasks`` holds the existing task).
    public let outcome: SubmitOutcome

    public init(created: Bool, tasks: [SubmittedTask], workflow: String?, run: String? = nil, outcome: SubmitOutcome? = nil) {
        self.created = created
        self.tasks = tasks
        self.workflow = workflow
        self.run = run
        self.outcome = outcome ?? (created ? .created : .replayed)
    }
}

/// A worker's report of a successful run.
public struct Completion: Sendable, Hashable {
    public var lease: TaskLease
    public var result: [UInt8]
    /// The handler decided there was nothing to do (upsies/jobcontrol SKIPPED); counts as DONE.
    public var skipped: Bool
    /// A sub-workflow task started this child run: it waits for the run to end instead of
    /// ending now (complete.lua, event `await_run`).
    public var awaitRun: String?
    /// The handler read the results of the child run it spawned, which had ended
    /// (`waitForChildren` returned): its own result stands, it does not end with the run.
    public var childrenRead = false

    public init(lease: TaskLease, result: [UInt8], skipped: Bool = false, awaitRun: String? = nil) {
        self.lease = lease
        self.result = result
        self.skipped = skipped
        self.awaitRun = awaitRun
    }
}

/// A worker's report of a run that did not succeed.
public struct Failure: Sendable, Hashable {
    public enum Mode: Sendable, Hashable {
        /// Retry after `delay` if attempts remain.
        case retry(delay: Duration)
        /// Do not retry (permanent error, unknown handler).
        case final
        /// Give the task back without charging the attempt (graceful shutdown).
        case handBack
        /// The handler stopped because the task was cancelled.
        case cancelled
        /// Not yet: run again after `delay` without charging the attempt. Past the task's
        /// `max_snoozes` it is a failure (reason `snooze_limit`) retried after `retryDelay`
        /// (the backoff) if attempts remain.
        case snooze(delay: Duration, retryDelay: Duration)
        /// Wait for the signal `name` (and, with a question, for its answer): PENDING in no
        /// queue without charging the attempt; FAILED (`signal_timeout`) after `timeout`.
        case wait(name: String, timeout: Duration?, question: SignalQuestion?)
        /// Backpressure ("rate limited, retry after `delay`", an HTTP 429): a snooze (same
        /// budget, same `retryDelay` past it) that also pauses the task's rate key for `delay`,
        /// so no task of the key starts before then; without a rate key, a snooze.
        case rateLimited(delay: Duration, retryDelay: Duration)
        /// Wait for the child run the task spawned: PENDING in no queue without charging the
        /// attempt, queued again when the run ends (fail.lua 'children').
        case children
    }

    public var lease: TaskLease
    public var mode: Mode
    /// A short stable word: `error`, `timeout`, `unknown_handler`, `bad_payload`, …
    public var reason: String
    public var message: String

    public init(lease: TaskLease, mode: Mode, reason: String, message: String) {
        self.lease = lease
        self.mode = mode
        self.reason = reason
        self.message = message
    }
}

/// What a write under a lease achieved.
public enum LeaseWriteOutcome: Sendable, Hashable {
    /// complete: DONE.
    case done
    /// fail: will run again after the backoff.
    case retrying
    /// fail: FAILED for good.
    case failed
    /// fail (or a pending cancellation): CANCELLED.
    case cancelled
    /// fail with `.handBack`: queued again, attempt not charged.
    case handedBack
    /// fail with `.snooze`: delayed, attempt not charged.
    case snoozed
    /// fail with `.wait`: waiting for a signal (or resumed by one already kept), attempt not charged.
    case waiting
    /// heartbeat: lease extended.
    case extended
    /// heartbeat: lease extended, but the task was cancelled: stop the handler.
    case cancelRequested
    /// Refused; nothing changed (`not_found`, `invalid_state`, `stale_token`).
    case refused(JobqError.Code)
}
