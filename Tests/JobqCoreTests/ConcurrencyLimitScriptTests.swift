import JobqRedis
import Testing

@testable import JobqCore

/// Concurrency limits by key through the scripts: at most N tasks of a key RUNNING, the rest
/// parked (never polled, never in the way of other work), each freed slot waking one.
@Suite("concurrency limits: parking, waking, counters", .enabled(if: redisAvailable))
struct ConcurrencyLimitScriptTests {
    static func keyed(_ id: String, tenant: String?, limit: Int = 2, attempts: Int = 3, queue: String = "default") -> TaskSpec {
        var task = spec(id, queue: queue, maxAttempts: attempts, payload: tenant.map { "{\"tenant\":\"\($0)\"}" } ?? "{}")
        if tenant != nil { task.concurrency = ConcurrencyLimit(key: "tenant-{payload.tenant}", limit: limit) }
        return task
    }

    static func claim(_ engine: EngineFixture, _ count: Int = 10) async throws -> [ClaimedTask] {
        try await engine.coordinator.leases.claim(queues: ["default"], count: count, lease: .seconds(30), worker: "w")
    }

    static func running(_ engine: EngineFixture, _ key: String) async throws -> Int {
        // the key's field in `limit_counts`: `RUNNING LIMIT`
        Int(try await engine.redis.send("HGET", RedisArgument(engine.keys.limitCounts), RedisArgument(key)).decodeOptionalString()?.split(separator: " ").first ?? "0") ?? 0
    }

    static func done(_ engine: EngineFixture, _ tasks: [ClaimedTask]) async throws {
        _ = try await engine.coordinator.leases.complete(tasks.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
    }

    @Test func atMostNRunPerKeyWhileOtherKeysAndUnkeyedTasksFlowPast() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([
                Self.keyed("a1", tenant: "a"), Self.keyed("a2", tenant: "a"), Self.keyed("a3", tenant: "a"), Self.keyed("a4", tenant: "a"),
                Self.keyed("b1", tenant: "b"), Self.keyed("free", tenant: nil), Self.keyed("b2", tenant: "b"), Self.keyed("b3", tenant: "b"),
            ])
            #expect(try await engine.field("a1", "climit") == "2 tenant-a")
            let first = try await Self.claim(engine)
            // two of each key; the parked ones are out of the ready list, not in the way
            #expect(first.map(\.id) == ["a1", "a2", "b1", "free", "b2"])
            #expect(try await engine.list(engine.keys.limitParked("tenant-a")) == ["a3", "a4"])
            #expect(try await engine.list(engine.keys.limitParked("tenant-b")) == ["b3"])
            #expect(try await engine.readyList().isEmpty)
            #expect(try await Self.running(engine, "tenant-a") == 2)
            #expect(try await Self.running(engine, "tenant-b") == 2)
            // an unkeyed task submitted now runs at once
            _ = try await engine.coordinator.tasks.submit([Self.keyed("later", tenant: nil)])
            #expect(try await Self.claim(engine).map(\.id) == ["later"])

            // one of tenant-a ends: exactly one parked task is queued again, at the front
            try await Self.done(engine, [first[0]])
            #expect(try await engine.readyList() == ["a3"])
            let next = try await Self.claim(engine)
            #expect(next.map(\.id) == ["a3"])
            #expect(try await Self.running(engine, "tenant-a") == 2)

            // drain: never more than 2 per key; the counters and parked lists end empty
            var current = Array(first.dropFirst()) + next
            while !current.isEmpty {
                try await Self.done(engine, current)
                current = try await Self.claim(engine)
                #expect(try await Self.running(engine, "tenant-a") <= 2)
                #expect(try await Self.running(engine, "tenant-b") <= 2)
            }
            #expect(try await engine.state("a4") == .done)
            #expect(try await engine.state("b3") == .done)
            let keys = try await engine.keySnapshot()
            #expect(!keys.keys.contains { $0.hasPrefix(engine.keys.prefix + "limit") }, "\(keys.keys.sorted())")
        }
    }

    @Test func limitOneRunsAKeyInSubmissionOrder() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit((1...5).map { Self.keyed("k\($0)", tenant: "x", limit: 1) } + [Self.keyed("y1", tenant: "y", limit: 1)])
            var order: [String] = []
            var current = try await Self.claim(engine, 3)
            while !current.isEmpty {
                #expect(current.filter { $0.id.hasPrefix("k") }.count <= 1)
                order += current.map(\.id).filter { $0.hasPrefix("k") }
                try await Self.done(engine, current)
                current = try await Self.claim(engine, 3)
            }
            #expect(order == ["k1", "k2", "k3", "k4", "k5"])
        }
    }

    @Test func everyWayOutOfRunningWakesOneParkedTask() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit((1...5).map { Self.keyed("t\($0)", tenant: "z", limit: 1, attempts: 2) })
            // complete
            var running = try await Self.claim(engine)
            #expect(running.map(\.id) == ["t1"])
            try await Self.done(engine, running)
            running = try await Self.claim(engine)
            #expect(running.map(\.id) == ["t2"])
            // fail with a retry: its slot frees (it waits for its backoff), the next one runs
            _ = try await engine.coordinator.leases.fail([Failure(lease: running[0].lease, mode: .retry(delay: .seconds(60)), reason: "error", message: "x")])
            running = try await Self.claim(engine)
            #expect(running.map(\.id) == ["t3"])
            // cancel of a running task: the slot frees when its worker stops it
            _ = try await engine.coordinator.tasks.cancel(task: "t3")
            #expect(try await Self.running(engine, "tenant-z") == 1)
            _ = try await engine.coordinator.leases.fail([Failure(lease: running[0].lease, mode: .cancelled, reason: "cancelled", message: "stopped")])
            #expect(try await Self.running(engine, "tenant-z") == 0)
            running = try await Self.claim(engine)
            #expect(running.map(\.id) == ["t4"])
            // reap: a dead worker's lease expires, its task goes back (recovered) and the slot frees
            engine.clock.advance(by: .seconds(31))
            #expect(try await engine.coordinator.maintenance.reap().map(\.id) == ["t4"])
            #expect(try await Self.running(engine, "tenant-z") == 0)
            // recovered work first: t4 again, then t5 stays parked behind it
            running = try await Self.claim(engine)
            #expect(running.map(\.id) == ["t4"])
            try await Self.done(engine, running)
            running = try await Self.claim(engine)
            #expect(running.map(\.id) == ["t5"])
            try await Self.done(engine, running)
            engine.clock.advance(by: .seconds(61))
            _ = try await engine.coordinator.maintenance.promote()
            running = try await Self.claim(engine)
            #expect(running.map(\.id) == ["t2"])
            try await Self.done(engine, running)
            #expect(try await Self.running(engine, "tenant-z") == 0)
            #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.limitCounts), RedisArgument(engine.keys.limitParked("tenant-z")), RedisArgument(engine.keys.limitParkedKeys)).decodeInt() == 0)
        }
    }

    @Test func aRecoveredTaskParkedAtItsLimitGoesBackToTheRecoveredLane() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.keyed("a", tenant: "q", limit: 1, queue: "q1"), Self.keyed("b", tenant: "q", limit: 1, queue: "q2")])
            #expect(try await engine.coordinator.leases.claim(queues: ["q1"], count: 1, lease: .seconds(3), worker: "w1").map(\.id) == ["a"])
            engine.clock.advance(by: .seconds(4))
            _ = try await engine.coordinator.maintenance.reap() // a's worker died: a is recovered work
            let b = try await engine.coordinator.leases.claim(queues: ["q2"], count: 1, lease: .seconds(30), worker: "w2")
            #expect(b.map(\.id) == ["b"])
            // a is popped from the recovered lane while its key is full: parked, marked as recovered
            #expect(try await engine.coordinator.leases.claim(queues: ["q1"], count: 1, lease: .seconds(30), worker: "w2").isEmpty)
            #expect(try await engine.list(engine.keys.limitParked("tenant-q")) == ["r a"])
            // b ends: a goes back to the recovered lane (ahead of new work), not to ready
            try await Self.done(engine, b)
            #expect(try await engine.list(engine.keys.recovered("q1")) == ["a"])
            #expect(try await engine.readyList("q1").isEmpty)
        }
    }

    @Test func theKeyTemplateExpandsOverThePayload() throws {
        let payload = Array(#"{"tenant":{"id":42,"tier":"gold"},"ok":true}"#.utf8)
        #expect(try ConcurrencyLimit(key: "t-{payload.tenant.id}-{payload.tenant.tier}", limit: 1).expandedKey(payload: payload) == "t-42-gold")
        #expect(try ConcurrencyLimit(key: "flag.{payload.ok}", limit: 1).expandedKey(payload: payload) == "flag.true")
        #expect(try ConcurrencyLimit(key: "plain", limit: 1).expandedKey(payload: payload) == "plain")
    }

    @Test(arguments: [
        ("limit 0", #"{"tenant":"a"}"#, "tenant-{payload.tenant}", 0, JobqError.Code.invalidOption, "concurrency_limit"),
        ("limit over the max", #"{"tenant":"a"}"#, "tenant-{payload.tenant}", 10_001, .invalidOption, "10000"),
        ("missing field", #"{"other":1}"#, "tenant-{payload.tenant}", 2, .invalidOption, "payload.tenant"),
        ("not a scalar", #"{"tenant":{"id":1}}"#, "tenant-{payload.tenant}", 2, .invalidOption, "payload.tenant"),
        ("payload not an object", "[1]", "tenant-{payload.tenant}", 2, .invalidOption, "payload.tenant"),
        ("unknown placeholder", "{}", "tenant-{tenant}", 2, .invalidOption, "{tenant}"),
        ("unclosed placeholder", "{}", "tenant-{payload.tenant", 2, .invalidOption, "not closed"),
        ("invalid expanded key", #"{"tenant":"a b"}"#, "tenant-{payload.tenant}", 2, .invalidName, "a b"),
        ("empty key", "{}", "", 2, .invalidName, "concurrency key"),
    ])
    func badLimitsAreRefusedAndNothingIsWritten(_ label: String, payload: String, key: String, limit: Int, code: JobqError.Code, mentions: String) async throws {
        try await withEngine { engine in
            var task = spec("a", payload: payload)
            task.concurrency = ConcurrencyLimit(key: key, limit: limit)
            let error = await #expect(throws: JobqError.self, "\(label)") { _ = try await engine.coordinator.tasks.submit([task]) }
            #expect(error?.code == code, "\(label)")
            #expect(error?.message.contains(mentions) == true, "\(label): \(error?.message ?? "")")
            let written = try await engine.keySnapshot()
            #expect(written.isEmpty, "\(label)")
        }
    }

    /// A sub-workflow's child tasks keep their limits through the request the parent carries.
    @Test func aChildRunRequestCarriesTheLimit() throws {
        let limit = ConcurrencyLimit(key: "tenant-{payload.tenant}", limit: 3)
        let request = try ChildRunRequest(definition: "child", tasks: [TaskSpec(id: "a", handler: "h", payload: Array(#"{"tenant":"x"}"#.utf8), concurrency: limit)])
        let decoded = try ChildRunRequest.decode(try request.encoded())
        #expect(try decoded.submission(id: "c").tasks.first?.concurrency == limit)
    }

    /// A parked task is waiting on purpose, whichever lane it came from: doctor does not call it
    /// stranded (and would otherwise queue it past its limit).
    @Test func doctorLeavesParkedTasksAlone() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.keyed("a", tenant: "d", limit: 1, queue: "q1"), Self.keyed("b", tenant: "d", limit: 1, queue: "q2"),
                                                          Self.keyed("c", tenant: "d", limit: 1, queue: "q2")])
            _ = try await engine.coordinator.leases.claim(queues: ["q1"], count: 1, lease: .seconds(3), worker: "w1")
            engine.clock.advance(by: .seconds(4))
            _ = try await engine.coordinator.maintenance.reap()
            _ = try await engine.coordinator.leases.claim(queues: ["q2"], count: 5, lease: .seconds(30), worker: "w2") // b runs, c parks
            _ = try await engine.coordinator.leases.claim(queues: ["q1"], count: 1, lease: .seconds(30), worker: "w2") // recovered a parks
            #expect(try await engine.list(engine.keys.limitParked("tenant-d")) == ["c", "r a"])
            let report = try await engine.coordinator.maintenance.diagnose()
            #expect(report.isConsistent, "\(report.problems)")
        }
    }

    /// A woken task cancelled before a claim reaches it: the claim that drops it wakes the next
    /// parked task, which would otherwise wait for a completion that never comes.
    @Test func aWokenTaskCancelledBeforeItsClaimHandsItsSlotOn() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit(["a", "b", "c"].map { Self.keyed($0, tenant: "h", limit: 1) })
            let a = try await Self.claim(engine)
            #expect(a.map(\.id) == ["a"])
            try await Self.done(engine, a)
            #expect(try await engine.readyList() == ["b"])
            _ = try await engine.coordinator.tasks.cancel(task: "b")
            #expect(try await Self.claim(engine).isEmpty) // drops b, wakes c
            #expect(try await engine.readyList() == ["c"])
            #expect(try await Self.claim(engine).map(\.id) == ["c"])
        }
    }

    /// Several slots freed in one call wake their parked tasks oldest first.
    @Test func slotsFreedTogetherWakeInOrder() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit((1...5).map { Self.keyed("t\($0)", tenant: "o", limit: 2) })
            let first = try await Self.claim(engine)
            #expect(first.map(\.id) == ["t1", "t2"])
            try await Self.done(engine, first)
            #expect(try await Self.claim(engine).map(\.id) == ["t3", "t4"])
        }
    }
}
