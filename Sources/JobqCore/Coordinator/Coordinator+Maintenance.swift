import JobqRedis

/// The maintenance pass every worker runs: reap expired leases, promote due delayed tasks,
/// delete finished tasks whose retention has passed. The scripts are idempotent, so two workers running them
/// at once do no harm; ``tryMaintenanceLock(owner:for:)`` just keeps them from doing it twice.
extension Coordinator {
    /// Sends running tasks whose lease has expired down the fail path. Returns (id, new state).
    public func reap(limit: Int = 500) async throws(JobqError) -> [(id: String, state: TaskState?)] {
        let reply = try await run(Scripts.reap, [RedisArgument(limit)])
        _ = try Self.code(of: reply, script: "reap")
        var reaped: [(String, TaskState?)] = []
        var index = 2
        while index + 1 < reply.count {
            reaped.append((reply[index].string ?? "", reply[index + 1].string.flatMap(TaskState.init(rawValue:))))
            index += 2
        }
        return reaped
    }

    /// What a promote pass did.
    public struct PromoteResult: Sendable, Hashable {
        public let promoted: Int
        /// Finished tasks whose retention had passed, deleted.
        public let deleted: Int
        /// When the next delayed task falls due (Redis time, ms), if any.
        public let nextDue: Int64?
    }

    /// Makes due delayed tasks dispatchable and deletes finished tasks whose retention passed.
    public func promote(limit: Int = 1000) async throws(JobqError) -> PromoteResult {
        let reply = try await run(Scripts.promote, [RedisArgument(limit)])
        _ = try Self.code(of: reply, script: "promote")
        let next = reply.count > 3 ? Int64(reply[3].int ?? 0) : 0
        return PromoteResult(
            promoted: reply.count > 1 ? reply[1].int ?? 0 : 0,
            deleted: reply.count > 2 ? reply[2].int ?? 0 : 0,
            nextDue: next > 0 ? next : nil
        )
    }

    /// What one maintenance pass did.
    public struct MaintenanceResult: Sendable {
        /// Running tasks whose lease had expired, with their new state.
        public let reaped: [(id: String, state: TaskState?)]
        public let promote: PromoteResult
    }

    /// One maintenance pass, if `owner` wins the lock for this `interval`: reap expired leases,
    /// then promote due delayed tasks and delete finished tasks past their retention. Returns
    /// `nil` when another process holds the lock (it is doing this work).
    ///
    /// Workers call it every interval; `jobq coordinator` runs it on its own.
    public func maintenancePass(owner: String, interval: Duration) async throws(JobqError) -> MaintenanceResult? {
        guard try await tryMaintenanceLock(owner: owner, for: interval) else { return nil }
        let reaped = try await reap()
        let promoted = try await promote()
        return MaintenanceResult(reaped: reaped, promote: promoted)
    }

    /// Takes the maintenance lock for `duration` if nobody holds it (SET NX PX).
    public func tryMaintenanceLock(owner: String, for duration: Duration) async throws(JobqError) -> Bool {
        do {
            let reply = try await redis.send(RedisCommand("SET", [
                RedisArgument(keys.maintenanceLock), RedisArgument(owner), "NX", "PX", RedisArgument(Int(duration.jobqMilliseconds)),
            ]))
            return !reply.isNull
        } catch {
            throw Self.translate(error, doing: "maintenance lock")
        }
    }

    /// Blocks (on a blocking lane) until a cancellation is requested for a task `worker` runs,
    /// or `timeout` passes. Returns the ids (empty on timeout). The heartbeat reply stays the
    /// truth; this only tells the worker to look now.
    public func waitForControl(worker: String, timeout: Duration) async throws(JobqError) -> [String] {
        let key = RedisArgument(keys.control(worker))
        do {
            let reply = try await redis.sendBlocking(
                RedisCommand("BLPOP", [key, RedisArgument(max(Double(timeout.jobqMilliseconds) / 1000, 0.01))]),
                blockTimeout: timeout
            )
            // One id per call: the next call returns at once while more are queued.
            return reply.array?.last?.string.map { [$0] } ?? []
        } catch {
            throw Self.translate(error, doing: "wait for control")
        }
    }

    /// Blocks (on the client's blocking lane, never the cooperative pool) until work may be
    /// waiting on one of `queues`, or `timeout` passes. Returns whether a wake-up arrived.
    public func waitForWork(queues: [String], timeout: Duration) async throws(JobqError) -> Bool {
        guard !queues.isEmpty else { return false }
        let seconds = max(Double(timeout.jobqMilliseconds) / 1000, 0.01)
        var arguments = queues.map { RedisArgument(keys.wake($0)) }
        arguments.append(RedisArgument(seconds))
        do {
            let reply = try await redis.sendBlocking(RedisCommand("BLPOP", arguments), blockTimeout: timeout)
            return !reply.isNull
        } catch {
            throw Self.translate(error, doing: "wait for work")
        }
    }
}
