import JobqRedis

/// Reads of concurrency keys (plain commands, pipelined: nothing changes state).
extension TaskStore {
    /// The usage of each key in `keys` (a key with nothing running or parked reads 0/–/0), in
    /// one round trip.
    package func limitUsage(_ keys: [String]) async throws(JobqError) -> [LimitUsage] {
        guard !keys.isEmpty else { return [] }
        var commands: [RedisCommand] = []
        commands.reserveCapacity(keys.count + 1)
        // every key's count is a field of one hash: `RUNNING LIMIT`
        commands.append(RedisCommand("HMGET", [RedisArgument(runner.keys.limitCounts)] + keys.map { RedisArgument($0) }))
        for key in keys {
            commands.append(RedisCommand("LLEN", [RedisArgument(runner.keys.limitParked(key))]))
        }
        let replies = try await runner.pipeline(commands, doing: "read concurrency limits")
        let counts = replies[0].array ?? []
        return keys.indices.map { index in
            let fields = (index < counts.count ? counts[index].string : nil)?.split(separator: " ") ?? []
            return LimitUsage(
                key: keys[index],
                running: fields.first.flatMap { Int($0) } ?? 0,
                limit: fields.dropFirst().first.flatMap { Int($0) },
                parked: replies[index + 1].int ?? 0
            )
        }
    }

    /// One page of the keys that have tasks running or parked (HSCAN of `limit_counts`: bounded
    /// work per call whatever the number of keys; a key may appear on two pages, as HSCAN allows).
    package func limits(cursor: String = "0", count: Int = 100) async throws(JobqError) -> LimitPage {
        let reply = try await runner.send(
            RedisCommand("HSCAN", [RedisArgument(runner.keys.limitCounts), RedisArgument(cursor), "COUNT", RedisArgument(max(1, min(count, 1000)))]),
            doing: "list concurrency limits"
        ).array ?? []
        let next = reply.first?.string ?? "0"
        let pairs = reply.dropFirst().first?.array ?? []
        let keys = Array(Set(stride(from: 0, to: pairs.count, by: 2).compactMap { pairs[$0].string })).sorted()
        return LimitPage(keys: try await limitUsage(keys), next: next == "0" ? nil : next)
    }
}
