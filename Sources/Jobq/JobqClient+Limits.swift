import JobqCore

extension JobqClient {
    /// How full each concurrency key in `keys` is (running, limit, parked), in one round trip.
    public func limitUsage(_ keys: [String]) async throws(JobqError) -> [LimitUsage] {
        try await engine.tasks.limitUsage(keys)
    }

    /// One page of the concurrency keys with tasks running or parked; pass `next` back for the
    /// next page (bounded work per call, whatever the number of keys).
    public func limits(cursor: String = "0", count: Int = 100) async throws(JobqError) -> LimitPage {
        try await engine.tasks.limits(cursor: cursor, count: count)
    }
}

extension JobqClient {
    /// How each rate key in `keys` stands (starts in the current window, parked, paused until),
    /// in two round trips. A key with nothing parked keeps no record of its rate: give it in
    /// `rates` to count against it.
    public func rateUsage(_ keys: [String], rates: [String: RateLimit] = [:]) async throws(JobqError) -> [RateUsage] {
        try await engine.tasks.rateUsage(keys, rates: rates)
    }

    /// The rate keys with tasks held back or a pause in force, earliest wake first (at most
    /// `count`), and how many there are.
    public func rateLimits(count: Int = 100) async throws(JobqError) -> (keys: [RateUsage], total: Int) {
        try await engine.tasks.rateKeys(count: count)
    }
}
