import JobqRedis

/// Every error jobq reports to producers, workers and the CLI, with a stable machine-readable code.
///
/// A struct with an extensible `Code` (after swift-service-lifecycle and valkey-swift), so new
/// codes never break a caller's `switch`. `code.rawValue` is what `--json` output and scripts see.
///
/// The cause stays attached (``underlying``, e.g. the ``RedisError``), so callers decide on
/// parsed fields — ``serverError``'s prefix `NOAUTH`, `WRONGPASS`, `NOPERM` — and never on
/// message text.
public struct JobqError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // Bad input: rejected before anything is written.
        public static let invalidName = Code(rawValue: "invalid_name")
        public static let invalidPayload = Code(rawValue: "invalid_payload")
        public static let payloadTooLarge = Code(rawValue: "payload_too_large")
        public static let invalidOption = Code(rawValue: "invalid_option")
        public static let tooManyPrerequisites = Code(rawValue: "too_many_prerequisites")
        public static let duplicatePrerequisite = Code(rawValue: "duplicate_prerequisite")
        public static let tooManyTasks = Code(rawValue: "too_many_tasks")
        public static let duplicateID = Code(rawValue: "duplicate_id")
        public static let unknownDependency = Code(rawValue: "unknown_dependency")
        public static let cycle = Code(rawValue: "cycle")
        /// A `skip_if` / `run_if` that does not parse, names a task that is not a prerequisite,
        /// or comes with the other one.
        public static let invalidPrecondition = Code(rawValue: "invalid_precondition")
        /// A `cache_key` that does not parse, or whose `{result:X}` names a task that is not a
        /// prerequisite.
        public static let invalidCacheKey = Code(rawValue: "invalid_cache_key")
        public static let idempotencyConflict = Code(rawValue: "idempotency_conflict")
        /// A new run was given the id of a run that exists.
        public static let runExists = Code(rawValue: "run_exists")
        /// A schedule whose cron expression does not parse or never fires, whose time zone is
        /// unknown, or whose interval is below one second.
        public static let invalidSchedule = Code(rawValue: "invalid_schedule")
        /// `schedule add` of a name that exists (without `--replace`).
        public static let scheduleExists = Code(rawValue: "schedule_exists")
        /// `jobq answer` with a choice the task's question does not offer.
        public static let invalidAnswer = Code(rawValue: "invalid_answer")
        /// `jobq answer` to a task that asks nothing now.
        public static let notAsking = Code(rawValue: "not_asking")
        /// A unique key held by another task, in a submission of several tasks or a run (one
        /// task gets the holder back instead).
        public static let uniqueHeld = Code(rawValue: "unique_held")
        /// A sub-workflow definition includes itself, directly or not.
        public static let workflowCycle = Code(rawValue: "workflow_cycle")
        /// A map (`map:`, `Workflow.add(_:map:…)`) whose `over` is not a list or a `!retval`
        /// reference, whose `task` has no handler of its own, or whose width or window is out of
        /// range; or `map` given with `handler` or `workflow`.
        public static let invalidMap = Code(rawValue: "invalid_map")
        // Refusals of a state change.
        public static let notFound = Code(rawValue: "not_found")
        public static let invalidState = Code(rawValue: "invalid_state")
        public static let staleToken = Code(rawValue: "stale_token")
        public static let prerequisiteFailed = Code(rawValue: "prerequisite_failed")
        // Everything else.
        public static let corruptRecord = Code(rawValue: "corrupt_record")
        /// `--strict`: the Redis server evicts keys or does not persist them.
        public static let unsafeRedis = Code(rawValue: "unsafe_redis")
        public static let timeout = Code(rawValue: "timeout")
        /// The calling Swift task was cancelled (for example a worker shutting down).
        public static let cancelled = Code(rawValue: "cancelled")
        public static let redisUnavailable = Code(rawValue: "redis_unavailable")
        public static let redisError = Code(rawValue: "redis_error")
        /// Redis refused a write at `maxmemory` (noeviction): nothing was written; retry once
        /// memory is freed.
        public static let redisOutOfMemory = Code(rawValue: "redis_oom")
        public static let internalError = Code(rawValue: "internal_error")
    }

    public let code: Code
    /// What went wrong and, where there is one, what to do about it.
    public let message: String
    /// The task, workflow or name the error is about, when there is one.
    public let subject: String?
    /// What caused it, when it came from below (a ``RedisError``, a file system error…).
    /// Not part of equality: two errors with the same code, message and subject are the same.
    public let underlying: (any Error)?

    public init(_ code: Code, _ message: String, subject: String? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.subject = subject
        self.underlying = underlying
    }

    /// The same error with another message (for callers that add what only they know, e.g.
    /// which setting held the password); code, subject and cause are kept.
    public func with(message: String) -> JobqError {
        JobqError(code, message, subject: subject, underlying: underlying)
    }

    /// The Redis failure behind this error, if it came from Redis.
    public var redisError: RedisError? { underlying as? RedisError }

    /// redis-server's error reply behind this error (its ``RedisServerError/prefix`` is the
    /// parsed code: `NOAUTH`, `WRONGPASS`, `NOPERM`, `OOM`, …).
    public var serverError: RedisServerError? { redisError?.serverError }

    public var description: String { "\(message) [\(code.rawValue)]" }

    public static func == (lhs: JobqError, rhs: JobqError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.subject == rhs.subject
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
        hasher.combine(subject)
    }
}
