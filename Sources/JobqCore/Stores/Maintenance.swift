import JobqRedis

/// The maintenance pass every worker runs: reap expired leases, promote due delayed tasks,
/// delete finished tasks whose retention has passed. The scripts are idempotent, so two workers
/// running them at once do no harm; ``tryMaintenanceLock(owner:for:)`` just keeps them from
/// doing it twice.
extension Maintenance {
    /// Sends running tasks whose lease has expired down the fail path.
    package func reap(limit: Int = 500) async throws(JobqError) -> [ReapedTask] {
        try await runner.run(ReapCall(limit: limit))
    }

    /// Makes due delayed tasks dispatchable and deletes finished tasks whose retention passed.
    package func promote(limit: Int = 1000) async throws(JobqError) -> PromoteResult {
        try await runner.run(PromoteCall(limit: limit))
    }

    /// One maintenance pass, if `owner` wins the lock for this `interval`: reap expired leases,
    /// then promote due delayed tasks and delete finished tasks past their retention. Returns
    /// `nil` when another process holds the lock (it is doing this work).
    ///
    /// Workers call it every interval; `jobq coordinator` runs it on its own.
    package func pass(owner: String, interval: Duration) async throws(JobqError) -> MaintenanceResult? {
        guard try await tryMaintenanceLock(owner: owner, for: interval) else { return nil }
        let reaped = try await reap()
        let promoted = try await promote()
        return MaintenanceResult(reaped: reaped, promote: promoted)
    }

    /// Takes the maintenance lock for `duration` if nobody holds it (SET NX PX).
    package func tryMaintenanceLock(owner: String, for duration: Duration) async throws(JobqError) -> Bool {
        let reply = try await runner.send(RedisCommand("SET", [
            RedisArgument(runner.keys.maintenanceLock), RedisArgument(owner), "NX", "PX", RedisArgument(Int(duration.jobqMilliseconds)),
        ]), doing: "maintenance lock", isWrite: true)
        return !reply.isNull
    }
}
