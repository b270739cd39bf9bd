import JobqRedis

extension Inspector {
    /// DONE and FAILED counts per minute for the `hours` before the Redis server's now: one
    /// pipelined round trip of `hours + 1` HGETALLs (the hashes the scripts keep per hour).
    package func minuteRates(hours: Int = 72) async throws(JobqError) -> MinuteRates {
        let now = try await serverTime()
        let last = now / 60_000
        let first = last - Int64(hours) * 60 + 1
        let hourKeys = (first / 60...last / 60).map { runner.keys.throughput(hour: $0) }
        let replies = try await runner.pipeline(hourKeys.map { RedisCommand("HGETALL", [RedisArgument($0)]) }, doing: "read minute rates")
        let count = Int(last - first + 1)
        var done = [Int](repeating: 0, count: count)
        var failed = [Int](repeating: 0, count: count)
        for reply in replies {
            for (field, value) in ScriptRunner.hash(reply) {
                let parts = field.split(separator: ":")
                guard parts.count == 2, let minute = Int64(parts[0]), minute >= first, minute <= last,
                      let n = Int(String(decoding: value, as: UTF8.self)) else { continue }
                if parts[1] == "done" { done[Int(minute - first)] += n } else if parts[1] == "failed" { failed[Int(minute - first)] += n }
            }
        }
        return MinuteRates(firstMinute: first, done: done, failed: failed)
    }
}
