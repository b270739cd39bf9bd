import JobqRedis

/// promote.lua: due delayed tasks become dispatchable; finished tasks past retention are deleted.
package struct PromoteCall: ScriptCall {
    package static var script: RedisScript { Scripts.promote }

    /// At most this many delayed tasks made ready in this call.
    package var promoteLimit: Int
    /// At most this many finished records deleted in this call.
    package var deleteLimit: Int

    package var arguments: [RedisArgument] { [RedisArgument(promoteLimit), RedisArgument(deleteLimit)] }

    /// `{1, promoted, deleted, next due time (ms, 0 when nothing is delayed), runs stopped}`.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> PromoteResult {
        try reply.expectOK()
        let promoted = try reply.int("promoted")
        let deleted = try reply.int("deleted")
        let next = try reply.int("next due")
        let stopped = try reply.int("runs stopped")
        return PromoteResult(promoted: promoted, deleted: deleted, nextDue: next > 0 ? Int64(next) : nil, runsStopped: stopped)
    }

    /// Whether this call stopped at one of its limits, so that more may be due.
    package func reachedLimit(_ result: PromoteResult) -> Bool {
        result.promoted >= promoteLimit || result.deleted >= deleteLimit
    }
}
