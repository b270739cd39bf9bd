/// Every error jobq reports to producers, workers and the CLI, with a stable machine-readable code.
///
/// A struct with an extensible `Code` (after swift-service-lifecycle and valkey-swift), so new
/// codes never break a caller's `switch`. `code.rawValue` is what `--json` output and scripts see.
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
        public static let idempotencyConflict = Code(rawValue: "idempotency_conflict")
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

    public init(_ code: Code, _ message: String, subject: String? = nil) {
        self.code = code
        self.message = message
        self.subject = subject
    }

    public var description: String { "\(message) [\(code.rawValue)]" }
}
