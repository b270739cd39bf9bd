import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqCore

/// A coordinator on the shared test redis-server, in a fresh namespace, with a hand-driven clock.
struct EngineFixture {
    let coordinator: Coordinator
    let clock: ManualClock
    var redis: RedisClient { coordinator.redis }
    var keys: Keyspace { coordinator.keys }

    /// Every key of this test's namespace with its type, for "nothing was written" checks.
    func keySnapshot() async throws -> [String: String] {
        var cursor = "0"
        var keys: [String: String] = [:]
        repeat {
            let reply = try await redis.send("SCAN", RedisArgument(cursor), "MATCH", RedisArgument(self.keys.prefix + "*"), "COUNT", 1000)
            let parts = try reply.decodeArray()
            cursor = try parts[0].decodeString()
            for key in try parts[1].decodeArray() {
                let name = try key.decodeString()
                keys[name] = try await redis.send("TYPE", RedisArgument(name)).decodeString()
            }
        } while cursor != "0"
        return keys
    }

    /// A field of a task hash.
    func field(_ id: String, _ name: String) async throws -> String? {
        try await redis.send("HGET", RedisArgument(keys.task(id)), RedisArgument(name)).decodeOptionalString()
    }

    func state(_ id: String) async throws -> TaskState? {
        try await field(id, "state").flatMap(TaskState.init(rawValue:))
    }

    func readyList(_ queue: String = "default") async throws -> [String] {
        try await redis.send("LRANGE", RedisArgument(keys.ready(queue)), 0, -1).decodeArray().map { try $0.decodeString() }
    }

    /// Any list (a queue's `recovered` or `quarantine` lane), left (tail) to right (head).
    func list(_ key: String) async throws -> [String] {
        try await redis.send("LRANGE", RedisArgument(key), 0, -1).decodeArray().map { try $0.decodeString() }
    }

    func zsetMembers(_ key: String) async throws -> [String] {
        try await redis.send("ZRANGE", RedisArgument(key), 0, -1).decodeArray().map { try $0.decodeString() }
    }

    /// The events recorded for `id`, as "FROM>TO:reason" ("-" for a new task's FROM).
    func events(of id: String) async throws -> [String] {
        try await coordinator.inspector.events(after: "0-0", block: nil, count: 100_000).records
            .filter { $0.task == id }
            .map { "\($0.from?.rawValue ?? "-")>\($0.to?.rawValue ?? ""):\($0.reason)" }
    }

    /// Claims and completes everything runnable until nothing is left; returns ids in run order.
    @discardableResult
    func drain(queue: String = "default", batch: Int = 100, result: (ClaimedTask) -> [UInt8] = { _ in Array("null".utf8) }) async throws -> [String] {
        var order: [String] = []
        while true {
            let claimed = try await coordinator.leases.claim(queues: [queue], count: batch, lease: .seconds(30), worker: "w1")
            if claimed.isEmpty { return order }
            order += claimed.map(\.id)
            let outcomes = try await coordinator.leases.complete(claimed.map { Completion(lease: $0.lease, result: result($0)) })
            #expect(outcomes.allSatisfy { $0 == .done })
        }
    }
}

/// Runs `body` with a fresh namespace on the shared redis-server.
func withEngine(limits: Limits = Limits(), _ body: (EngineFixture) async throws -> Void) async throws {
    let server = try await RedisServerFixture.shared()
    let client = server.makeClient()
    let clock = ManualClock()
    let namespace = "test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    let coordinator = try Coordinator(redis: client, namespace: namespace, clock: .manual(clock), limits: limits)
    do {
        try await body(EngineFixture(coordinator: coordinator, clock: clock))
    } catch {
        await client.close()
        throw error
    }
    await client.close()
}

/// A task spec with a fixed id, for readable tests.
func spec(_ id: String, after prerequisites: [String] = [], policy: DependencyPolicy = .success, queue: String = "default",
          maxAttempts: Int = 3, payload: String = "{}") -> TaskSpec {
    TaskSpec(id: id, handler: "noop", queue: queue, payload: Array(payload.utf8),
             prerequisites: prerequisites.map { Prerequisite($0, policy: policy) }, maxAttempts: maxAttempts,
             backoff: .fixed(delay: .seconds(10)))
}

/// Enabled when redis-server is installed, and always in CI (where its absence must fail).
let redisAvailable = RedisServerFixture.shouldRun
