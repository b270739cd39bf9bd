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
