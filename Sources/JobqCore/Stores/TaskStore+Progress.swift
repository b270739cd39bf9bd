import JobqRedis

/// Progress and per-task logs: written by the worker holding the lease (``LeaseStore/report(_:progress:log:)``,
/// fenced), read by anyone.
extension TaskStore {
    /// The task's progress entries, sorted by group path.
    package func progress(of id: String) async throws(JobqError) -> [ProgressEntry] {
        try Validation.check(taskID: id)
        let fields = ScriptRunner.hash(try await runner.send(RedisCommand("HGETALL", [RedisArgument(runner.keys.progress(id))]), doing: "read progress"))
        return fields.compactMap { path, value -> ProgressEntry? in
            let text = String(decoding: value, as: UTF8.self)
            let head = text.prefix { $0 != " " }
            let status = text.dropFirst(head.count).drop { $0 == " " }
            let numbers = head.split(separator: "/").compactMap { Int($0) }
            guard numbers.count == 2 else { return nil }
            return ProgressEntry(group: path.isEmpty ? [] : path.split(separator: "/").map(String.init),
                                 current: numbers[0], total: numbers[1], status: String(status))
        }.sorted { $0.group.joined(separator: "/") < $1.group.joined(separator: "/") }
    }

    /// Log lines of a task from line `start` on (0-based; the log keeps the newest
    /// ``LeaseStore/logLinesKept`` lines).
    package func logs(of id: String, from start: Int = 0) async throws(JobqError) -> [String] {
        try Validation.check(taskID: id)
        let reply = try await runner.send(RedisCommand("LRANGE", [RedisArgument(runner.keys.log(id)), RedisArgument(start), -1]), doing: "read logs")
        return (reply.array ?? []).compactMap(\.string)
    }
}
