import JobqRedis

/// Progress and per-task logs: written by the worker holding the lease (fenced), read by anyone.
extension Coordinator {
    /// Most log lines kept per task; older ones are dropped.
    public static let logLinesKept = 1000

    /// Records progress entries and appends log lines for a running task, in one fenced script.
    @discardableResult
    public func report(_ lease: TaskLease, progress: [ProgressEntry] = [], log lines: [String] = []) async throws(JobqError) -> LeaseWriteOutcome {
        guard !progress.isEmpty || !lines.isEmpty else { return .extended }
        var arguments: [RedisArgument] = [
            RedisArgument(lease.id), RedisArgument(lease.token), RedisArgument(Self.logLinesKept), RedisArgument(progress.count),
        ]
        for entry in progress {
            arguments += [
                RedisArgument(entry.group.joined(separator: "/")),
                RedisArgument("\(entry.current)/\(entry.total)"),
                RedisArgument(String(entry.status.prefix(500))),
            ]
        }
        arguments += lines.map { RedisArgument(String($0.prefix(4096))) }
        let reply = try await run(Scripts.progress, arguments)
        let code = try Self.code(of: reply, script: "progress")
        switch code {
        case .ok: return .extended
        case .notFound: return .refused(.notFound)
        case .wrongState: return .refused(.invalidState)
        case .staleToken: return .refused(.staleToken)
        default: throw code.error(subject: lease.id, detail: Self.details(of: reply))
        }
    }

    /// The task's progress entries, sorted by group path.
    public func progress(of id: String) async throws(JobqError) -> [ProgressEntry] {
        try Validation.check(name: id, as: .taskID)
        let fields: [String: [UInt8]]
        do {
            fields = Self.hash(try await redis.send(RedisCommand("HGETALL", [RedisArgument(keys.progress(id))])))
        } catch {
            throw Self.translate(error, doing: "read progress")
        }
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
    /// ``logLinesKept`` lines).
    public func logs(of id: String, from start: Int = 0) async throws(JobqError) -> [String] {
        try Validation.check(name: id, as: .taskID)
        do {
            let reply = try await redis.send(RedisCommand("LRANGE", [RedisArgument(keys.log(id)), RedisArgument(start), -1]))
            return (reply.array ?? []).compactMap(\.string)
        } catch {
            throw Self.translate(error, doing: "read logs")
        }
    }
}
