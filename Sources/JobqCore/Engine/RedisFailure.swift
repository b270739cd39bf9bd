import JobqRedis

/// The one place a Redis failure becomes a ``JobqError``.
package enum RedisFailure {
    /// Translates `error` from doing `what`. `isWrite` says whether the command could have
    /// changed something: only then does a connection lost mid-command leave the outcome unknown.
    package static func translate(_ error: any Error, doing what: String, isWrite: Bool) -> JobqError {
        if let error = error as? JobqError { return error }
        if error is CancellationError {
            return JobqError(.cancelled, "\(what): cancelled")
        }
        guard let error = error as? RedisError else {
            return JobqError(.internalError, "\(what): \(error)")
        }
        switch error.code {
        case .server:
            let prefix = error.serverError?.prefix ?? "ERR"
            if prefix == "OOM" {
                return JobqError(.redisOutOfMemory, "\(what): Redis is out of memory (maxmemory reached); nothing was written — free memory or raise maxmemory, then retry")
            }
            return JobqError(.redisError, "\(what): Redis refused the command: \(error.serverError?.message ?? error.message)")
        case .outcomeUnknown where isWrite:
            return JobqError(.redisUnavailable, "\(what): the connection to Redis broke before the reply arrived; the change may or may not have been applied — check the task's state before repeating it (submits: repeat with the same idempotency key)")
        case .outcomeUnknown:
            return JobqError(.redisUnavailable, "\(what): the connection to Redis broke before the reply arrived; nothing was changed — try again once Redis is back")
        default:
            return JobqError(.redisUnavailable, "\(what): \(error.description)")
        }
    }
}
