import JobqCore
import JobqRedis

/// The engine's lease scripts, public for the benchmarks package only (product
/// `_JobqBenchmarkSupport`, not API): the engine benchmark measures submit → claim → complete
/// below the worker, which a separate package cannot reach through `package` access.
public struct EngineProbe: Sendable {
    private let coordinator: Coordinator

    public init(redis: RedisClient, namespace: String) throws(JobqError) {
        coordinator = try Coordinator(redis: redis, namespace: namespace)
    }

    public var keys: Keyspace { coordinator.keys }

    @discardableResult
    public func submit(_ tasks: [TaskSpec]) async throws(JobqError) -> SubmitResult {
        try await coordinator.tasks.submit(tasks)
    }

    public func claim(queues: [String] = [TaskSpec.defaultQueue], count: Int, lease: Duration = .seconds(60), worker: String = "bench") async throws(JobqError) -> [ClaimedTask] {
        try await coordinator.leases.claim(queues: queues, count: count, lease: lease, worker: worker)
    }

    @discardableResult
    public func complete(_ completions: [Completion]) async throws(JobqError) -> [LeaseWriteOutcome] {
        try await coordinator.leases.complete(completions)
    }
}
