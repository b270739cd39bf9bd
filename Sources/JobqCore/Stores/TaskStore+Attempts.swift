import JobqRedis

/// Attempt histories: a read of their own, so that reading 10,000 task records (`status`, a
/// workflow's table) never fetches histories nobody asked for.
extension TaskStore {
    /// The attempt history of `id`, oldest first (empty when the task never ended an attempt,
    /// does not exist or has been deleted by retention). Bounded: at most
    /// ``TaskAttempt/keptAfterFirst`` + 1 entries are stored.
    package func attempts(of id: String) async throws(JobqError) -> AttemptHistory {
        try Validation.check(taskID: id) // RUN/TASK as well as a standalone id
        return try await attempts(of: [id])[0]
    }

    /// The histories of `ids`, in order, in one pipelined round trip (one LRANGE each).
    package func attempts(of ids: [String]) async throws(JobqError) -> [AttemptHistory] {
        guard !ids.isEmpty else { return [] }
        let commands = ids.map { RedisCommand("LRANGE", [RedisArgument(runner.keys.attempts($0)), 0, -1]) }
        let replies = try await runner.pipeline(commands, doing: "read attempt history")
        return replies.map { reply in
            AttemptHistory(entries: (reply.array ?? []).compactMap(\.bytes))
        }
    }

    /// How many entries each of `ids` has in its history (one LLEN each, pipelined): to find the
    /// DONE tasks worth reading a history for without reading every history.
    package func attemptCounts(of ids: [String]) async throws(JobqError) -> [Int] {
        guard !ids.isEmpty else { return [] }
        let commands = ids.map { RedisCommand("LLEN", [RedisArgument(runner.keys.attempts($0))]) }
        return try await runner.pipeline(commands, doing: "read attempt history").map { $0.int ?? 0 }
    }
}
