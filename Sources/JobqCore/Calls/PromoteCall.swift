import JobqRedis

/// promote.lua: tasks past their expiry end CANCELLED (`expired`); due delayed tasks become
/// dispatchable; finished tasks past retention are deleted.
package struct PromoteCall: ScriptCall {
    package static var script: RedisScript { Scripts.promote }

    /// At most this many delayed tasks made ready in this call.
    package var promoteLimit: Int
    /// At most this many finished records deleted in this call.
    package var deleteLimit: Int
    /// At most this many entries of the expiry index taken in this call.
    package var expireLimit: Int

    package var arguments: [RedisArgument] { [RedisArgument(promoteLimit), RedisArgument(deleteLimit), RedisArgument(expireLimit)] }

    /// `{1, promoted, deleted, next due time (ms, 0 when nothing is due later), runs stopped,
    /// expired, expiry entries taken, timed out waiting for a signal, signal timeout entries taken,
    /// rate keys taken, rate logs swept}`.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> PromoteResult {
        try reply.expectOK()
        let promoted = try reply.int("promoted")
        let deleted = try reply.int("deleted")
        let next = try reply.int("next due")
        let stopped = try reply.int("runs stopped")
        let expired = try reply.int("expired")
        let taken = try reply.int("expiry entries")
        let timedOut = try reply.int("signal timeouts")
        let timeoutEntries = try reply.int("signal timeout entries")
        let rateKeys = try reply.int("rate keys")
        let rateLogs = try reply.int("rate logs")
        return PromoteResult(promoted: promoted, deleted: deleted, nextDue: next > 0 ? Int64(next) : nil, runsStopped: stopped,
                             expired: expired, expiryEntries: taken, signalTimeouts: timedOut, signalTimeoutEntries: timeoutEntries,
                             rateKeys: rateKeys, rateLogs: rateLogs)
    }

    /// Whether this call stopped at one of its limits, so that more may be due.
    package func reachedLimit(_ result: PromoteResult) -> Bool {
        result.promoted >= promoteLimit || result.deleted >= deleteLimit || result.expiryEntries >= expireLimit
            || result.signalTimeoutEntries >= expireLimit || result.rateKeys >= Limits.rateWakeKeys
            || result.rateLogs >= Limits.rateLogSweep
    }
}
