import JobqRedis
import Testing

@testable import JobqCore

/// Rate limits by key through the scripts (on a hand-driven clock): at most N starts of a key
/// in any window of the interval, the rest parked (never polled, never in the way of other
/// work) and woken by the maintenance pass when a start leaves the window; a handler's
/// backpressure pauses the whole key.
@Suite("rate limits: parking, waking, backpressure", .enabled(if: redisAvailable))
struct RateLimitScriptTests {
    static func rated(_ id: String, tenant: String?, count: Int = 2, per interval: Duration = .seconds(10), queue: String = "default") -> TaskSpec {
        var task = spec(id, queue: queue, payload: tenant.map { "{\"tenant\":\"\($0)\"}" } ?? "{}")
        if tenant != nil { task.rate = RateLimit(count, per: interval, key: "api-{payload.tenant}") }
        return task
    }

    static func claimBatch(_ engine: EngineFixture, _ count: Int = 10) async throws -> ClaimBatch {
        try await engine.coordinator.runner.run(ClaimCall(worker: "w", lease: .seconds(30), count: count, idle: false, queues: ["default"]))
    }

    static func claim(_ engine: EngineFixture, _ count: Int = 10) async throws -> [ClaimedTask] {
        try await engine.coordinator.leases.claim(queues: ["default"], count: count, lease: .seconds(30), worker: "w")
    }

    static func done(_ engine: EngineFixture, _ tasks: [ClaimedTask]) async throws {
        _ = try await engine.coordinator.leases.complete(tasks.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
    }

    static func wakeAt(_ engine: EngineFixture, _ key: String) async throws -> Int64? {
        try await engine.redis.send("ZSCORE", RedisArgument(engine.keys.rates), RedisArgument(key)).decodeOptionalString().flatMap { Double($0) }.map { Int64($0) }
    }

    @Test func overTheRateTasksParkAndWakeWhenAStartLeavesTheWindow() async throws {
        try await withEngine { engine in
            let start = engine.clock.now
            _ = try await engine.coordinator.tasks.submit([
                Self.rated("a1", tenant: "a"), Self.rated("a2", tenant: "a"), Self.rated("a3", tenant: "a"),
                Self.rated("free", tenant: nil), Self.rated("a4", tenant: "a"), Self.rated("b1", tenant: "b"),
            ])
            #expect(try await engine.field("a1", "rlimit") == "2 10000 api-a")
            let first = try await Self.claimBatch(engine)
            // two of api-a, and the others flow past the parked ones
            #expect(first.tasks.map(\.id) == ["a1", "a2", "free", "b1"])
            #expect(try await engine.list(engine.keys.rateParked("api-a")) == ["a3", "a4"])
            #expect(try await engine.readyList().isEmpty)
            // the key is due when its oldest start leaves the window; the claim says so
            #expect(try await Self.wakeAt(engine, "api-a") == start + 10_000)
            #expect(first.rateWake == start + 10_000)
            #expect(try await engine.redis.send("ZCARD", RedisArgument(engine.keys.rateStarts("api-a"))).decodeInt() == 2)
            try await Self.done(engine, first.tasks)

            // finishing frees nothing (a rate is about starts); a pass before the wake time wakes nothing
            engine.clock.advance(by: .seconds(5))
            let early = try await engine.coordinator.maintenance.promote()
            #expect(early.rateKeys == 0)
            #expect(early.nextDue == start + 10_000)
            #expect(try await Self.claim(engine).isEmpty)

            // at the wake time: both parked tasks are queued again, in order, at the front
            engine.clock.advance(by: .seconds(5))
            #expect(try await engine.coordinator.maintenance.promote().rateKeys == 1)
            #expect(try await engine.readyList() == ["a4", "a3"])
            #expect(try await engine.list(engine.keys.rateParked("api-a")).isEmpty)
            #expect(try await Self.wakeAt(engine, "api-a") == nil)
            #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.rate("api-a"))).decodeInt() == 0)
            let second = try await Self.claim(engine)
            #expect(second.map(\.id) == ["a3", "a4"])
            try await Self.done(engine, second)
            // the log has no expiry of its own: `rate_logs` has it due a minute after the interval
            // after its first start, and the maintenance pass deletes it once out of its window
            #expect(try await engine.redis.send("PTTL", RedisArgument(engine.keys.rateStarts("api-a"))).decodeInt() == -1)
            #expect(try await engine.redis.send("ZSCORE", RedisArgument(engine.keys.rateLogs), "10000 api-a").decodeOptionalString().flatMap { Double($0) } == Double(start + 70_000))
            engine.clock.advance(by: .seconds(10 + 61))
            _ = try await engine.coordinator.maintenance.promote()
            #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.rateStarts("api-a")), RedisArgument(engine.keys.rateLogs)).decodeInt() == 0)
        }
    }

    /// A task held back by its rate key (parked by a claim, or paused by backpressure) is woken
    /// onto the ready lane of its own priority, as one woken from a concurrency limit is: it is
    /// claimed ahead of default-priority work queued meanwhile, not behind it.
    @Test func rateParkedTasksWakeOnTheirOwnPriorityLane() async throws {
        try await withEngine { engine in
            var first = Self.rated("h1", tenant: "a", count: 1)
            first.priority = 7
            var second = Self.rated("h2", tenant: "a", count: 1)
            second.priority = 7
            _ = try await engine.coordinator.tasks.submit([first, second])
            let started = try await Self.claim(engine)
            #expect(started.map(\.id) == ["h1"])
            #expect(try await engine.list(engine.keys.rateParked("api-a")) == ["h2"])
            // backpressure from h1: the key pauses, h1 is parked on it too
            let outcome = try await engine.coordinator.leases.fail([Failure(lease: started[0].lease, mode: .rateLimited(delay: .seconds(1), retryDelay: .seconds(1)), reason: "rate_limited", message: "429")])
            #expect(outcome == [.snoozed])
            #expect(try await engine.list(engine.keys.rateParked("api-a")) == ["h2", "h1"])
            _ = try await engine.coordinator.tasks.submit([Self.rated("low1", tenant: nil), Self.rated("low2", tenant: nil)])
            engine.clock.advance(by: .seconds(11))
            #expect(try await engine.coordinator.maintenance.promote().rateKeys == 1)
            // one start free: the oldest parked task goes back, on its priority's lane
            #expect(try await engine.list(engine.keys.ready("default", priority: 7)) == ["h2"])
            #expect(try await engine.zsetMembers(engine.keys.levels("default")) == ["7"])
            #expect(try await Self.claim(engine, 1).map(\.id) == ["h2"])
        }
    }

    @Test func neverMoreThanNStartsInAnyWindowOverAManualClock() async throws {
        try await withEngine { engine in
            let n = 3, interval: Int64 = 1000
            _ = try await engine.coordinator.tasks.submit((0..<40).map { Self.rated("t\($0)", tenant: "x", count: n, per: .milliseconds(interval)) })
            var starts: [Int64] = []
            var steps = 0
            while starts.count < 40 && steps < 2000 {
                steps += 1
                _ = try await engine.coordinator.maintenance.promote()
                let claimed = try await Self.claim(engine, Int.random(in: 1...5))
                let now = engine.clock.now
                starts += claimed.map { _ in now }
                try await Self.done(engine, claimed)
                engine.clock.advance(by: .milliseconds(Int.random(in: 1...150)))
            }
            #expect(starts.count == 40)
            // the independent record: every window [t, t + interval) holds at most n starts
            for (index, time) in starts.enumerated() {
                #expect(starts[index...].prefix { $0 < time + interval }.count <= n, "window at \(time): \(starts)")
            }
            // and the rate is used: after a start, a slot is never idle a whole step past its time
            #expect(starts.last! - starts.first! < Int64(40 / n + 1) * (interval + 150))
        }
    }

    @Test func backpressurePausesTheWholeKeyWithoutUsingAnAttempt() async throws {
        try await withEngine { engine in
            let start = engine.clock.now
            _ = try await engine.coordinator.tasks.submit((1...3).map { Self.rated("p\($0)", tenant: "q", count: 100, per: .seconds(60)) } + [Self.rated("other", tenant: "r")])
            let first = try await Self.claim(engine, 1)
            #expect(first.map(\.id) == ["p1"])
            let outcome = try await engine.coordinator.leases.fail([Failure(lease: first[0].lease, mode: .rateLimited(delay: .seconds(30), retryDelay: .seconds(10)), reason: "rate_limited", message: "429")])
            #expect(outcome == [.snoozed])
            #expect(try await engine.state("p1") == .pending)
            #expect(try await engine.field("p1", "attempts") == "0")
            #expect(try await engine.field("p1", "reason") == "rate_limited")
            #expect(try await engine.events(of: "p1").last == "RUNNING>PENDING:rate_limited")
            #expect(try await engine.redis.send("HGET", RedisArgument(engine.keys.rate("api-q")), "paused").decodeOptionalString() == String(start + 30_000))
            // nothing of the key starts while paused; other keys do
            #expect(try await Self.claim(engine).map(\.id) == ["other"])
            #expect(try await engine.list(engine.keys.rateParked("api-q")) == ["p1", "p2", "p3"])
            engine.clock.advance(by: .milliseconds(29_999))
            #expect(try await engine.coordinator.maintenance.promote().nextDue == start + 30_000)
            #expect(try await Self.claim(engine).isEmpty)
            // at its end the key wakes, with the paused task first
            engine.clock.advance(by: .milliseconds(1))
            _ = try await engine.coordinator.maintenance.promote()
            #expect(try await Self.claim(engine).map(\.id) == ["p1", "p2", "p3"])
            #expect(try await engine.field("p1", "attempts") == "1")
            // a stale token cannot pause the key
            let stale = Failure(lease: TaskLease(id: "p2", token: 1), mode: .rateLimited(delay: .seconds(30), retryDelay: .zero), reason: "rate_limited", message: "")
            #expect(try await engine.coordinator.leases.fail([stale]) == [.refused(.staleToken)])
            #expect(try await engine.redis.send("HGET", RedisArgument(engine.keys.rate("api-q")), "paused").decodeOptionalString() != String(engine.clock.now + 30_000))
        }
    }

    @Test func backpressureWithoutARateKeyIsASnooze() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.rated("plain", tenant: nil)])
            let claimed = try await Self.claim(engine)
            _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .rateLimited(delay: .seconds(5), retryDelay: .zero), reason: "rate_limited", message: "")])
            #expect(try await engine.field("plain", "reason") == "rate_limited")
            #expect(try await engine.field("plain", "snoozes") == "1")
            #expect(try await engine.zsetMembers(engine.keys.delayed) == ["plain"])
            #expect(try await engine.zsetMembers(engine.keys.rates).isEmpty)
        }
    }

    @Test func aRateWithoutAKeyLimitsTheQueue() async throws {
        try await withEngine { engine in
            var tasks = (1...3).map { spec("q\($0)") }
            for index in tasks.indices { tasks[index].rate = RateLimit(1, per: .seconds(1)) }
            _ = try await engine.coordinator.tasks.submit(tasks)
            #expect(try await engine.field("q1", "rlimit") == "1 1000 queue.default")
            #expect(try await Self.claim(engine).map(\.id) == ["q1"])
        }
    }

    @Test func badRatesAreRefusedAndNothingIsWritten() async throws {
        try await withEngine { engine in
            func refused(_ rate: RateLimit, payload: String = "{\"tenant\":1}") async throws -> JobqError? {
                var task = spec("bad", payload: payload)
                task.rate = rate
                do {
                    _ = try await engine.coordinator.tasks.submit([task])
                    return nil
                } catch {
                    return error
                }
            }
            #expect(try await refused(RateLimit(0, per: .seconds(60), key: "api"))?.code == .invalidOption)
            #expect(try await refused(RateLimit(10, per: .zero, key: "api"))?.code == .invalidOption)
            #expect(try await refused(RateLimit(10_001, per: .seconds(1), key: "api"))?.code == .invalidOption)
            let missing = try await refused(RateLimit(5, per: .seconds(1), key: "api-{payload.region}"))
            #expect(missing?.code == .invalidOption)
            #expect(missing?.message.contains("payload.region") == true)
            #expect(try await refused(RateLimit(5, per: .seconds(1), key: "api:{payload.tenant}"))?.code == .invalidName)
            #expect(try await engine.keySnapshot().isEmpty)
            // the text form: N/DURATION
            #expect(try RateLimit(parsing: "100/1m") == RateLimit(100, per: .seconds(60)))
            #expect(try RateLimit(parsing: "5/s") == RateLimit(5, per: .seconds(1)))
            for text in ["100", "x/1m", "10/soon", "10/", "/1m"] {
                #expect(throws: JobqError.self, "\(text)") { try RateLimit(parsing: text) }
            }
        }
    }
}
