import JobqRedis

/// reap.lua: running tasks whose lease ran out go down the fail path (reason lease_expired).
package struct ReapCall: ScriptCall {
    package static var script: RedisScript { Scripts.reap }

    /// At most this many tasks per call.
    package var limit: Int

    package var arguments: [RedisArgument] { [RedisArgument(limit)] }

    /// `{1, n, (id, new state)...}`.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> [ReapedTask] {
        try reply.expectOK()
        let count = try reply.int("reaped count")
        var reaped: [ReapedTask] = []
        reaped.reserveCapacity(count)
        for _ in 0..<count {
            reaped.append(ReapedTask(id: try reply.string("id"), state: try reply.state("new state")))
        }
        return reaped
    }
}
