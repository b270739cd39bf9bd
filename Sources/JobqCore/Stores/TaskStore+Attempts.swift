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

    /// The histories of `ids`, in order, in one pipelined round trip (one LRANGE and one HMGET
    /// of the record each: a DONE task's last attempt is read from its record,
    /// ``AttemptHistory/completed(byRecord:attempts:worker:started:finished:)``).
    package func attempts(of ids: [String]) async throws(JobqError) -> [AttemptHistory] {
        guard !ids.isEmpty else { return [] }
        var commands: [RedisCommand] = []
        for id in ids {
            commands.append(RedisCommand("LRANGE", [RedisArgument(runner.keys.attempts(id)), 0, -1]))
            commands.append(RedisCommand("HMGET", [RedisArgument(runner.keys.task(id)), "state", "attempts", "worker", "started", "finished"]))
        }
        let replies = try await runner.pipeline(commands, doing: "read attempt history")
        return stride(from: 0, to: replies.count - 1, by: 2).map { index in
            let record = replies[index + 1].array ?? []
            func field(_ at: Int) -> String? { at < record.count ? record[at].string : nil }
            return AttemptHistory(entries: (replies[index].array ?? []).compactMap(\.bytes))
                .completed(byRecord: field(0).flatMap(TaskState.init(rawValue:)), attempts: field(1).flatMap { Int($0) },
                           worker: field(2), started: field(3).flatMap { Int64($0) }, finished: field(4).flatMap { Int64($0) })
        }
    }

    /// How many entries each of `ids` has stored in its history (one LLEN each, pipelined): to
    /// find the DONE tasks worth reading a history for without reading every history. A DONE
    /// task's last attempt is not stored (it is read from the record), so any stored entry
    /// means an earlier attempt ended otherwise (or the task was ended by a version before that).
    package func attemptCounts(of ids: [String]) async throws(JobqError) -> [Int] {
        guard !ids.isEmpty else { return [] }
        let commands = ids.map { RedisCommand("LLEN", [RedisArgument(runner.keys.attempts($0))]) }
        return try await runner.pipeline(commands, doing: "read attempt history").map { $0.int ?? 0 }
    }
}
