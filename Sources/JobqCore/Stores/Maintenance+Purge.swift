import JobqRedis

/// `jobq purge --finished`: the retention of finished tasks, brought forward.
extension Maintenance {
    /// Deletes the records of finished tasks now instead of when their retention runs out.
    ///
    /// Not a state transition: it moves each id's expiry in its terminal index
    /// (`s:DONE`/`s:FAILED`/`s:CANCELLED`, scored by expiry time) to 0 with `ZADD XX LT CH`, then
    /// runs the promote script, which deletes expired records exactly as it does when their
    /// retention ends. `XX` touches only ids that are in a terminal index *now*: a task that
    /// is PENDING or RUNNING, or that `retry` re-opened meanwhile (which takes it out of the
    /// index), is left alone, so a task that changes state between the caller's read and this
    /// call is never deleted. One command per id, each atomic on its own.
    ///
    /// - Returns: how many task records were marked and deleted.
    package func purge(finished ids: [String]) async throws(JobqError) -> Int {
        var marked = 0
        var start = ids.startIndex
        while start < ids.endIndex {
            let end = min(start + 1000, ids.endIndex)
            var commands: [RedisCommand] = []
            for id in ids[start..<end] {
                try Validation.check(taskID: id)
                for state in TaskState.terminal {
                    commands.append(RedisCommand("ZADD", [RedisArgument(runner.keys.ended(state)), "XX", "LT", "CH", 0, RedisArgument(id)]))
                }
            }
            let replies: [RedisValue]
            do {
                replies = try await runner.redis.pipeline(commands)
            } catch {
                throw JobqError(translating: error, doing: "purge", isWrite: true)
            }
            for reply in replies {
                if case .error(let error) = reply {
                    throw JobqError(.redisError, "purge: Redis refused ZADD XX LT CH (\(error.message)); purge needs Redis 6.2 or later")
                }
                marked += reply.int ?? 0
            }
            start = end
        }
        // The promote script deletes everything whose expiry has passed, ours first (score 0),
        // `deleteBatch` records per call so that each call stays well under 10 ms.
        let batches = marked / Self.deleteBatch + 3
        var deleted = 0
        while deleted < marked {
            let pass = try await promote(maxCalls: batches)
            deleted += pass.deleted
            if pass.deleted == 0 { break }
        }
        return marked
    }
}
