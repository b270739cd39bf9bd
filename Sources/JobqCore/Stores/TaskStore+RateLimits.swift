import JobqRedis

/// Reads of rate keys (plain commands, pipelined: nothing changes state).
extension TaskStore {
    /// How each key in `keys` stands, in two round trips (the record, parked count, wake time
    /// and Redis time; then the starts in each key's window). `rates` gives the rate to count
    /// against for keys whose record says none (a key with nothing parked keeps no record).
    package func rateUsage(_ keys: [String], rates: [String: RateLimit] = [:]) async throws(JobqError) -> [RateUsage] {
        guard !keys.isEmpty else { return [] }
        var commands: [RedisCommand] = [RedisCommand("TIME")]
        commands.reserveCapacity(keys.count * 3 + 1)
        for key in keys {
            commands.append(RedisCommand("HMGET", [RedisArgument(runner.keys.rate(key)), "limit", "interval", "paused"]))
            commands.append(RedisCommand("LLEN", [RedisArgument(runner.keys.rateParked(key))]))
            commands.append(RedisCommand("ZSCORE", [RedisArgument(runner.keys.rates), RedisArgument(key)]))
        }
        let replies = try await runner.pipeline(commands, doing: "read rate limits")
        let now = ScriptRunner.milliseconds(fromTime: replies[0])
        var usages: [RateUsage] = []
        var counts: [RedisCommand] = []
        for (index, key) in keys.enumerated() {
            let fields = replies[1 + 3 * index].array ?? []
            func number(_ at: Int) -> Int64? { fields.count > at ? fields[at].string.flatMap { Int64($0) } : nil }
            let given = rates[key]
            let limit = number(0).map { Int($0) } ?? given?.count
            let interval = number(1) ?? given?.interval.jobqMilliseconds
            let paused = number(2).flatMap { $0 > now ? $0 : nil }
            let wake = replies[3 + 3 * index].string.flatMap { Double($0) }.map { Int64($0) }
            usages.append(RateUsage(key: key, limit: limit, intervalMs: interval, recentStarts: 0,
                                    parked: replies[2 + 3 * index].int ?? 0, pausedUntil: paused, wakeAt: wake))
            let window = interval.map { "(\(now - $0)" } ?? "-inf"
            counts.append(RedisCommand("ZCOUNT", [RedisArgument(runner.keys.rateStarts(key)), RedisArgument(window), "+inf"]))
        }
        let starts = try await runner.pipeline(counts, doing: "read rate limits")
        for index in usages.indices { usages[index].recentStarts = starts[index].int ?? 0 }
        return usages
    }

    /// The rate keys with tasks parked or a pause in force (`rates`, earliest wake first), at
    /// most `count` of them, and how many there are.
    package func rateKeys(count: Int = 100) async throws(JobqError) -> (keys: [RateUsage], total: Int) {
        let replies = try await runner.pipeline([
            RedisCommand("ZRANGE", [RedisArgument(runner.keys.rates), 0, RedisArgument(max(1, min(count, 1000)) - 1)]),
            RedisCommand("ZCARD", [RedisArgument(runner.keys.rates)]),
        ], doing: "list rate limits")
        let keys = (replies[0].array ?? []).compactMap(\.string)
        return (try await rateUsage(keys), replies[1].int ?? 0)
    }
}
