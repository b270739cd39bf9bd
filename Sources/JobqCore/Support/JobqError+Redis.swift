import JobqRedis

/// The one place a Redis failure becomes a ``JobqError``.
///
/// Decisions are made on parsed fields only — ``RedisError/code`` and the server reply's
/// ``RedisServerError/prefix`` — never on message text, and the ``RedisError`` stays attached as
/// ``JobqError/underlying`` so that callers (the CLIs naming the setting that held a password)
/// can do the same. The codes are unchanged from before the cause was kept: connection and
/// authentication problems are `redis_unavailable`, refusals of a command `redis_error`.
extension JobqError {
    /// Translates `error` thrown while doing `what` (e.g. "read events", a script name).
    /// `isWrite` says whether the command could have changed something: only then does a
    /// connection lost mid-command leave the outcome unknown (a read just says to try again).
    public init(translating error: any Error, doing what: String, isWrite: Bool = true) {
        if let error = error as? JobqError {
            self = error
            return
        }
        if error is CancellationError {
            self = JobqError(.cancelled, "\(what): cancelled", underlying: error)
            return
        }
        guard let redis = error as? RedisError else {
            self = JobqError(.internalError, "\(what): \(error)", underlying: error)
            return
        }
        self = Self.translating(redis, doing: what, isWrite: isWrite)
    }

    private static func translating(_ error: RedisError, doing what: String, isWrite: Bool) -> JobqError {
        let reply = error.serverError
        switch (error.code, reply?.prefix) {
        case (_, "NOAUTH"):
            return JobqError(
                .redisUnavailable,
                "\(what): Redis requires a password and none was given (NOAUTH)",
                underlying: error
            )
        case (_, "WRONGPASS"):
            return JobqError(
                .redisUnavailable,
                "\(what): \(error.message) — the password is wrong for that user, or the user does not exist or is disabled",
                underlying: error
            )
        case (.authenticationFailed, _):
            return JobqError(.redisUnavailable, "\(what): \(error.message)", underlying: error)
        case (_, "NOPERM"):
            return JobqError(
                .redisError,
                "\(what): the Redis user lacks a permission jobq needs (NOPERM): \(reply?.message ?? error.message)",
                underlying: error
            )
        case (_, "OOM"):
            return JobqError(
                .redisOutOfMemory,
                "\(what): Redis is out of memory (maxmemory reached); nothing was written — free memory or raise maxmemory, then retry",
                underlying: error
            )
        case (.server, _):
            return JobqError(.redisError, "\(what): Redis refused the command: \(reply?.message ?? error.message)", underlying: error)
        case (.outcomeUnknown, _) where !isWrite:
            return JobqError(
                .redisUnavailable,
                "\(what): the connection to Redis broke before the reply arrived; nothing was changed — try again once Redis is back",
                underlying: error
            )
        case (.outcomeUnknown, _):
            return JobqError(
                .redisUnavailable,
                "\(what): the connection to Redis broke before the reply arrived; the change may or may not have been applied — check the task's state before repeating it (submits: repeat with the same idempotency key)",
                underlying: error
            )
        default:
            return JobqError(.redisUnavailable, "\(what): \(error.description)", underlying: error)
        }
    }

    /// Whether this is a lost or refused connection that a read may simply repeat once Redis is
    /// back (not bad credentials, a refused command or a timeout of the caller's own).
    public var isConnectionLoss: Bool {
        guard code == .redisUnavailable, let redis = redisError, redis.serverError == nil else { return false }
        switch redis.code {
        case .connectFailed, .io, .connectionClosed, .outcomeUnknown, .timeout, .protocolError: return true
        default: return false
        }
    }
}
