import JobqCore
import JobqRedis

/// Today's Redis implementation of the worker's store: `Coordinator`'s lease scripts.
///
/// With `Worker`'s public initialisers, the only place in JobqWorker that names `Coordinator`,
/// so that pointing the worker at another store type is a change here. Claim, heartbeat,
/// complete, fail, report, resolveRetvals, the two waits, serverTime and unregister are
/// `Coordinator`'s own methods; the rest adapt its result types.
extension Coordinator: TaskLeaseStore {
    public var storeNamespace: String { keys.namespace }

    public var maxResultBytes: Int { limits.maxPayloadBytes }

    public func maintain(owner: String, interval: Duration) async throws(JobqError) -> MaintenanceReport? {
        guard let pass = try await maintenancePass(owner: owner, interval: interval) else { return nil }
        return MaintenanceReport(reaped: pass.reaped, promote: PromoteReport(promoted: pass.promote.promoted, nextDue: pass.promote.nextDue))
    }

    public func promoteDueTasks() async throws(JobqError) -> PromoteReport {
        let result = try await promote(limit: 1000)
        return PromoteReport(promoted: result.promoted, nextDue: result.nextDue)
    }

    public func runningTaskCount() async throws(JobqError) -> Int {
        do {
            return try await redis.send("ZCARD", RedisArgument(keys.leases)).int ?? 0
        } catch {
            throw Self.translate(error, doing: "count running tasks")
        }
    }

    public func register(_ registration: WorkerRegistration, ttl: Duration) async throws(JobqError) {
        try await register(worker: WorkerInfo(
            id: registration.id, host: registration.host, pid: registration.pid, queues: registration.queues,
            concurrency: registration.concurrency, running: registration.running
        ), ttl: ttl)
    }
}
