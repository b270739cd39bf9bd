import JobqRedis
import Testing

@testable import JobqCore

/// Fair claiming through the scripts (docs/flow-control.md#fairness-across-keys): tasks with a
/// fair key wait on their key's own list, the keys with work take turns (one task each, round
/// robin, unkeyed tasks together as one more turn), FIFO within a key, strict across
/// priorities; the ring and its level go away once the keys are drained.
@Suite("fair claiming: round robin across keys", .enabled(if: redisAvailable))
struct FairClaimScriptTests {
    static func fair(_ id: String, tenant: String?, priority: Int = 0) -> TaskSpec {
        var task = spec(id, payload: tenant.map { "{\"tenant\":\"\($0)\"}" } ?? "{}")
        if tenant != nil { task.fairKey = "tenant-{payload.tenant}" }
        task.priority = priority
        return task
    }

    static func claim(_ engine: EngineFixture, _ count: Int) async throws -> [ClaimedTask] {
        try await engine.coordinator.leases.claim(queues: ["default"], count: count, lease: .seconds(30), worker: "w")
    }

    static func done(_ engine: EngineFixture, _ tasks: [ClaimedTask]) async throws {
        _ = try await engine.coordinator.leases.complete(tasks.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
    }

    /// Claims in batches of `count` until nothing is left, completing each batch: the claim order.
    static func order(_ engine: EngineFixture, _ count: Int) async throws -> [String] {
        var order: [String] = []
        var batch = try await claim(engine, count)
        while !batch.isEmpty {
            order += batch.map(\.id)
            try await done(engine, batch)
            batch = try await claim(engine, count)
        }
        return order
    }

    @Test func aSmallKeySubmittedAfterABigOneIsClaimedInTurnsWithIt() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit((0..<50).map { Self.fair("a\($0)", tenant: "a") })
            _ = try await engine.coordinator.tasks.submit((0..<5).map { Self.fair("b\($0)", tenant: "b") })
            // stored: the spec keeps the expanded key; the task waits on its key's list
            #expect(try await engine.field("b0", "spec")?.hasPrefix("default 0 tenant-b\t") == true)
            #expect(try await engine.list(engine.keys.fairLane("default", priority: 0, key: "tenant-b")) == ["b4", "b3", "b2", "b1", "b0"])
            #expect(try await engine.list(engine.keys.fairRing("default", priority: 0)) == ["", "tenant-a", "tenant-b"])
            #expect(try await engine.zsetMembers(engine.keys.levels("default")) == ["f0"])
            #expect(try await engine.readyList().isEmpty)
            let info = try await engine.coordinator.tasks.task("b0")
            #expect(info?.fairKey == "tenant-b")

            let order = try await Self.order(engine, 4)
            #expect(order.count == 55)
            // every b within the first 10 claims: a and b alternate until b is empty
            let lastB = order.lastIndex { $0.hasPrefix("b") } ?? .max
            #expect(lastB < 10, "\(order.prefix(12))")
            // FIFO within each key
            #expect(order.filter { $0.hasPrefix("a") } == (0..<50).map { "a\($0)" })
            #expect(order.filter { $0.hasPrefix("b") } == (0..<5).map { "b\($0)" })
            // drained: no ring, no level, no key list left behind
            let keys = try await engine.keySnapshot()
            #expect(!keys.keys.contains { $0.contains(":ring:") || $0.contains(":f:") || $0.hasSuffix(":levels") }, "\(keys.keys.sorted())")
        }
    }

    @Test func withoutFairKeysTheSameBacklogIsFIFO() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit((0..<50).map { Self.fair("a\($0)", tenant: nil) })
            _ = try await engine.coordinator.tasks.submit((0..<5).map { Self.fair("b\($0)", tenant: nil) })
            let order = try await Self.order(engine, 4)
            #expect(order == (0..<50).map { "a\($0)" } + (0..<5).map { "b\($0)" })
            #expect(try await engine.list(engine.keys.fairRing("default", priority: 0)).isEmpty)
        }
    }

    @Test func unkeyedTasksTakeOneTurnTogetherAndPrioritiesStayStrict() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit((0..<6).map { Self.fair("u\($0)", tenant: nil) })
            _ = try await engine.coordinator.tasks.submit((0..<6).map { Self.fair("a\($0)", tenant: "a") })
            _ = try await engine.coordinator.tasks.submit((0..<3).map { Self.fair("b\($0)", tenant: "b") })
            _ = try await engine.coordinator.tasks.submit([Self.fair("low", tenant: "a", priority: -1), Self.fair("high", tenant: "b", priority: 5)])
            let order = try await Self.order(engine, 1)
            // priority 5 first, then the three turns at 0 (unkeyed, a, b), then priority -1
            #expect(order.first == "high")
            #expect(order.last == "low")
            #expect(Array(order[1...9]) == ["u0", "a0", "b0", "u1", "a1", "b1", "u2", "a2", "b2"])
            #expect(Array(order[10...15]) == ["u3", "a3", "u4", "a4", "u5", "a5"])
            let keys = try await engine.keySnapshot()
            #expect(!keys.keys.contains { $0.contains(":ring:") || $0.contains(":f:") }, "\(keys.keys.sorted())")
        }
    }

    @Test func aTaskParkedByALimitComesBackToItsKeyAndTheKeyRejoinsTheRing() async throws {
        try await withEngine { engine in
            var specs = (0..<3).map { Self.fair("a\($0)", tenant: "a") }
            for index in specs.indices { specs[index].concurrency = ConcurrencyLimit(key: "tenant-{payload.tenant}", limit: 1) }
            _ = try await engine.coordinator.tasks.submit(specs)
            _ = try await engine.coordinator.tasks.submit((0..<3).map { Self.fair("b\($0)", tenant: "b") })
            // a0 runs, a1 and a2 are parked on the limit (tenant-a's list empties: it leaves the ring)
            let first = try await Self.claim(engine, 10)
            #expect(first.map(\.id) == ["a0", "b0", "b1", "b2"])
            #expect(try await engine.list(engine.keys.limitParked("tenant-a")) == ["a1", "a2"])
            #expect(try await engine.list(engine.keys.fairRing("default", priority: 0)).isEmpty)
            // a0 ends: a1 is woken onto tenant-a's list, and the key rejoins a new ring
            try await Self.done(engine, [first[0]])
            #expect(try await engine.list(engine.keys.fairLane("default", priority: 0, key: "tenant-a")) == ["a1"])
            #expect(try await engine.list(engine.keys.fairRing("default", priority: 0)) == ["", "tenant-a"])
            #expect(try await Self.claim(engine, 10).map(\.id) == ["a1"])
        }
    }

    @Test func retriesAndCancelledIdsKeepTheRingConsistent() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit((0..<3).map { Self.fair("a\($0)", tenant: "a") })
            _ = try await engine.coordinator.tasks.submit([Self.fair("b0", tenant: "b")])
            _ = try await engine.coordinator.tasks.cancel(task: "a1")
            let first = try await Self.claim(engine, 2)
            #expect(first.map(\.id) == ["a0", "b0"])
            // a0 fails and retries at once: queued again on tenant-a's list, FIFO behind a2
            _ = try await engine.coordinator.leases.fail([Failure(lease: first[0].lease, mode: .retry(delay: .zero), reason: "error", message: "boom")])
            _ = try await engine.coordinator.maintenance.promote()
            // the cancelled a1 is dropped when its turn comes
            #expect(try await Self.order(engine, 5) == ["a2", "a0"])
            #expect(try await engine.state("a1") == .cancelled)
            let keys = try await engine.keySnapshot()
            #expect(!keys.keys.contains { $0.contains(":ring:") || $0.contains(":f:") }, "\(keys.keys.sorted())")
        }
    }

    @Test func badFairKeysAreRefusedAndNothingIsWritten() async throws {
        try await withEngine { engine in
            let before = try await engine.keySnapshot()
            var missing = Self.fair("m", tenant: "a")
            missing.fairKey = "tenant-{payload.nope}"
            var unclosed = Self.fair("u", tenant: "a")
            unclosed.fairKey = "tenant-{payload.tenant"
            var notAName = Self.fair("n", tenant: "a b")
            notAName.fairKey = "tenant-{payload.tenant}"
            for (task, code) in [(missing, JobqError.Code.invalidOption), (unclosed, .invalidOption), (notAName, .invalidName)] {
                let error = await #expect(throws: JobqError.self) { try await engine.coordinator.tasks.submit([task]) }
                #expect(error?.code == code, "\(String(describing: error))")
            }
            #expect(try await engine.keySnapshot() == before)
        }
    }
}
