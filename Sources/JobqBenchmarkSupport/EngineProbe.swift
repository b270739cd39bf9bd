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

    /// The `FCALL` of a one-task submit of `spec` as `redis-benchmark` takes it (the whole
    /// command line after its own options): the same function and arguments the client sends,
    /// with the task id `id` (give it `__rand_int__` so that every call creates a task). The
    /// library must be loaded (one call through the client does it).
    public func submitCommandLine(_ spec: TaskSpec, id: String) -> [String] {
        let call = SubmitCall.oneTask(spec, id: id, idempotencyWindow: coordinator.tasks.idempotencyWindow)
        // ARGV[1] "0": the script reads the server's clock, as a client without a test clock sends
        return ["FCALL", Scripts.functionName(SubmitCall.script), "1", coordinator.keys.prefix, "0"]
            + call.arguments.map { String(decoding: $0.bytes, as: UTF8.self) }
    }

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
