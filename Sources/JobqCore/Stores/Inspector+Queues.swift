import JobqRedis

/// Queues and workers: operational state that is not a task transition, so plain reads.
extension Inspector {
    /// Every queue ever used, with its ready count and pause flag.
    package func queues() async throws(JobqError) -> [QueueInfo] {
        let keys = runner.keys
        let sets = try await runner.pipeline([
            RedisCommand("SMEMBERS", [RedisArgument(keys.queues)]),
            RedisCommand("SMEMBERS", [RedisArgument(keys.paused)]),
        ], doing: "list queues")
        let names = (sets[0].array ?? []).compactMap(\.string).sorted()
        let paused = Set((sets[1].array ?? []).compactMap(\.string))
        // Every lane of a queue counts as ready (recovered and quarantined work included, and
        // every priority in use).
        let lanes = try await self.lanes(of: names)
        let lengths = try await runner.pipeline(lanes.joined().map { RedisCommand("LLEN", [RedisArgument($0)]) }, doing: "list queues")
        var offset = 0
        return zip(names, lanes).map { name, lanes in
            let ready = lengths[offset..<(offset + lanes.count)].reduce(0) { $0 + ($1.int ?? 0) }
            offset += lanes.count
            return QueueInfo(name: name, ready: ready, paused: paused.contains(name))
        }
    }

    /// Every list each queue's dispatchable ids wait in (``Keyspace/lanes(_:priorities:)``), in
    /// claim order: one pipelined ZRANGE of the queues' priority levels in use.
    package func lanes(of queues: [String]) async throws(JobqError) -> [[String]] {
        let keys = runner.keys
        guard !queues.isEmpty else { return [] }
        let levels = try await runner.pipeline(queues.map { RedisCommand("ZRANGE", [RedisArgument(keys.levels($0)), 0, -1]) }, doing: "read priority levels")
        return zip(queues, levels).map { queue, reply in
            keys.lanes(queue, priorities: (reply.array ?? []).compactMap { $0.string.flatMap { Int($0) } })
        }
    }

    /// Workers seen alive, most recent first.
    package func workers() async throws(JobqError) -> [WorkerInfo] {
        let keys = runner.keys
        let members = try await runner.send(RedisCommand("ZREVRANGE", [RedisArgument(keys.workers), 0, -1, "WITHSCORES"]), doing: "list workers").array ?? []
        var ids: [(String, Int64)] = []
        var index = 0
        while index + 1 < members.count {
            ids.append((members[index].string ?? "", Int64(members[index + 1].string ?? "") ?? 0))
            index += 2
        }
        let hashes = try await runner.pipeline(ids.map { RedisCommand("HGETALL", [RedisArgument(keys.worker($0.0))]) }, doing: "list workers")
        return zip(ids, hashes).compactMap { entry, reply in
            let fields = ScriptRunner.hash(reply).mapValues { String(decoding: $0, as: UTF8.self) }
            guard !fields.isEmpty else { return nil }
            return WorkerInfo(
                id: entry.0, host: fields["host"] ?? "", pid: Int(fields["pid"] ?? "") ?? 0,
                queues: (fields["queues"] ?? "").split(separator: ",").map(String.init),
                concurrency: Int(fields["concurrency"] ?? "") ?? 0,
                running: (fields["running"] ?? "").split(separator: ",").map(String.init), lastSeen: entry.1
            )
        }
    }
}
