import JobqRedis

/// Reads of concurrency keys (plain commands, pipelined: nothing changes state).
extension TaskStore {
    /// The usage of each key in `keys` (a key with nothing running or parked reads 0/–/0), in
    /// one round trip.
    package func limitUsage(_ keys: [String]) async throws(JobqError) -> [LimitUsage] {
        guard !keys.isEmpty else { return [] }
        var commands: [RedisCommand] = []
        commands.reserveCapacity(keys.count * 2)
        for key in keys {
            commands.append(RedisCommand("HMGET", [RedisArgument(runner.keys.limit(key)), "running", "limit"]))
            commands.append(RedisCommand("LLEN", [RedisArgument(runner.keys.limitParked(key))]))
        }
        let replies = try await runner.pipeline(commands, doing: "read concurrency limits")
        return keys.indices.map { index in
            let fields = replies[2 * index].array ?? []
            return LimitUsage(
                key: keys[index],
                running: fields.first?.string.flatMap { Int($0) } ?? 0,
                limit: fields.dropFirst().first?.string.flatMap { Int($0) },
                parked: replies[2 * index + 1].int ?? 0
            )
        }
    }

    /// One page of the keys that have tasks running or parked (SSCAN of `limits`: bounded work
    /// per call whatever the number of keys; a key may appear on two pages, as SSCAN allows).
    package func limits(cursor: String = "0", count: Int = 100) async throws(JobqError) -> LimitPage {
        let reply = try await runner.send(
            RedisCommand("SSCAN", [RedisArgument(runner.keys.limits), RedisArgument(cursor), "COUNT", RedisArgument(max(1, min(count, 1000)))]),
            doing: "list concurrency limits"
        ).array ?? []
        let next = reply.first?.string ?? "0"
        let keys = Array(Set((reply.dropFirst().first?.array ?? []).compactMap(\.string))).sorted()
        return LimitPage(keys: try await limitUsage(keys), next: next == "0" ? nil : next)
    }
}
