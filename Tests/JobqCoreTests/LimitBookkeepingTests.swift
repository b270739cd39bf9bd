import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqCore

/// The per-call bookkeeping of concurrency and rate limits (docs/performance.md, "Concurrency
/// limits in one hash, rate logs swept"): every key's running count is a field of one hash,
/// checked here against the test's own record of what it holds after many claims, completions
/// and retries over many keys; a rate key's starts log has no expiry of its own and is swept by
/// the maintenance pass, in bounded passes, only once out of its window.
@Suite("limit bookkeeping: counts in one hash, rate logs swept", .enabled(if: redisAvailable))
struct LimitBookkeepingTests {
    /// `limit_counts` as key -> (running, limit).
    static func counts(_ engine: EngineFixture) async throws -> [String: (running: Int, limit: Int)] {
        let flat = try await engine.redis.send("HGETALL", RedisArgument(engine.keys.limitCounts)).array ?? []
        var counts: [String: (running: Int, limit: Int)] = [:]
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            let parts = (flat[index + 1].string ?? "").split(separator: " ").compactMap { Int($0) }
            counts[flat[index].string ?? ""] = (parts.first ?? -1, parts.dropFirst().first ?? -1)
        }
        return counts
    }

    @Test func countsStayExactOverManyTasksOfManyKeysAndIdleKeysLeave() async throws {
        try await withEngine { engine in
            let tenants = 40
            func limit(_ tenant: Int) -> Int { 1 + tenant % 3 }
            var tenantOf: [String: Int] = [:]
            var specs: [TaskSpec] = []
            for index in 0..<400 {
                let tenant = index % tenants
                let id = "t\(index)"
                tenantOf[id] = tenant
                var task = spec(id, maxAttempts: 3, payload: "{\"tenant\":\"\(tenant)\"}")
                task.concurrency = ConcurrencyLimit(key: "tenant-{payload.tenant}", limit: limit(tenant))
                specs.append(task)
            }
            specs += (0..<40).map { spec("free\($0)") }
            _ = try await engine.coordinator.tasks.submit(specs)

            // the test's own record: the tasks each key has running, from the leases it holds
            var held: [ClaimedTask] = []
            var done = Set<String>()
            var seed: UInt64 = 12
            func next(_ bound: Int) -> Int {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return Int((seed >> 33) % UInt64(bound))
            }
            var rounds = 0
            while done.count < specs.count, rounds < 500 {
                rounds += 1
                for worker in ["w1", "w2", "w3"] {
                    let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1 + next(30), lease: .seconds(30), worker: worker)
                    held += claimed
                }
                var running: [Int: Int] = [:]
                for task in held { if let tenant = tenantOf[task.id] { running[tenant, default: 0] += 1 } }
                for (tenant, n) in running { #expect(n <= limit(tenant), "tenant \(tenant): \(n) running over its limit \(limit(tenant))") }
                // the hash agrees with the record, key by key; a key with nothing running has no
                // field unless tasks of it are parked
                let counts = try await Self.counts(engine)
                for tenant in 0..<tenants {
                    let key = "tenant-\(tenant)"
                    let n = running[tenant] ?? 0
                    if n > 0 {
                        #expect(counts[key]?.running == n && counts[key]?.limit == limit(tenant), "\(key): \(String(describing: counts[key])) vs \(n) held")
                    } else if let field = counts[key] {
                        #expect(field.running == 0, "\(key): \(field) with nothing held")
                        #expect(try await engine.redis.send("LLEN", RedisArgument(engine.keys.limitParked(key))).decodeInt() > 0)
                    }
                }
                // end some of what is held: most complete, some fail and are retried at once
                var shuffler = SeededGenerator(state: seed)
                held.shuffle(using: &shuffler)
                let ending = held.prefix(1 + next(max(held.count, 1)))
                held.removeFirst(ending.count)
                var completions: [Completion] = []
                var failures: [Failure] = []
                for task in ending {
                    if next(5) == 0 && task.attempt < 3 {
                        failures.append(Failure(lease: task.lease, mode: .retry(delay: .zero), reason: "error", message: "again"))
                    } else {
                        completions.append(Completion(lease: task.lease, result: Array("null".utf8)))
                        done.insert(task.id)
                    }
                }
                if !completions.isEmpty { _ = try await engine.coordinator.leases.complete(completions) }
                if !failures.isEmpty { _ = try await engine.coordinator.leases.fail(failures) }
                _ = try await engine.coordinator.maintenance.promote()
            }
            #expect(done.count == specs.count)
            // every key idle: no field, no parked list, nothing in limit_parked_keys
            #expect(try await engine.redis.send("HLEN", RedisArgument(engine.keys.limitCounts)).decodeInt() == 0)
            #expect(try await engine.redis.send("SCARD", RedisArgument(engine.keys.limitParkedKeys)).decodeInt() == 0)
            let parkedLists = (0..<tenants).map { RedisArgument(engine.keys.limitParked("tenant-\($0)")) }
            #expect(try await engine.redis.send(RedisCommand("EXISTS", parkedLists)).decodeInt() == 0)
            #expect(try await engine.coordinator.tasks.limits(cursor: "0", count: 1000).keys.isEmpty)
        }
    }

    @Test func aRateLogStillInUseIsRescoredAndAnIdleOneDeleted() async throws {
        try await withEngine { engine in
            let start = engine.clock.now
            _ = try await engine.coordinator.tasks.submit([RateLimitScriptTests.rated("a1", tenant: "a"), RateLimitScriptTests.rated("a2", tenant: "a")])
            let member = RedisArgument("10000 api-a")
            func due() async throws -> Int64? {
                try await engine.redis.send("ZSCORE", RedisArgument(engine.keys.rateLogs), member).decodeOptionalString().flatMap { Double($0) }.map { Int64($0) }
            }
            func logSize() async throws -> Int {
                try await engine.redis.send("ZCARD", RedisArgument(engine.keys.rateStarts("api-a"))).decodeInt()
            }
            // a1 starts now, a2 after the window, just before the log's entry falls due
            let first = try await RateLimitScriptTests.claim(engine, 1)
            #expect(first.map(\.id) == ["a1"])
            try await RateLimitScriptTests.done(engine, first)
            #expect(try await due() == start + 70_000) // created: the interval and a minute after its start
            engine.clock.advance(by: .seconds(65))
            #expect(try await RateLimitScriptTests.claim(engine, 1).map(\.id) == ["a2"])
            #expect(try await due() == start + 70_000) // a start into an existing log writes no index
            // due while a2's start is still in the window: kept, due again from its newest start
            engine.clock.advance(by: .seconds(6))
            _ = try await engine.coordinator.maintenance.promote()
            #expect(try await logSize() == 2)
            #expect(try await due() == start + 65_000 + 70_000)
            // and once that is past too, the log and its entry go
            engine.clock.advance(by: .seconds(65))
            _ = try await engine.coordinator.maintenance.promote()
            #expect(try await logSize() == 0)
            #expect(try await due() == nil)
        }
    }

    @Test func idleLogsAreSweptInBoundedPasses() async throws {
        try await withEngine { engine in
            let keys = Limits.rateLogSweep + Limits.rateLogSweep / 2
            _ = try await engine.coordinator.tasks.submit((0..<keys).map { RateLimitScriptTests.rated("r\($0)", tenant: "k\($0)") })
            let claimed = try await RateLimitScriptTests.claim(engine, keys)
            #expect(claimed.count == keys)
            try await RateLimitScriptTests.done(engine, claimed)
            func indexed() async throws -> Int { try await engine.redis.send("ZCARD", RedisArgument(engine.keys.rateLogs)).decodeInt() }
            #expect(try await indexed() == keys)
            engine.clock.advance(by: .seconds(71))
            // one script call takes at most RATE_LOG_SWEEP entries and says so ...
            let one = try await engine.coordinator.maintenance.runner.run(PromoteCall(promoteLimit: 200, deleteLimit: 25, expireLimit: 100))
            #expect(one.rateLogs == Limits.rateLogSweep)
            #expect(try await indexed() == keys - Limits.rateLogSweep)
            // ... so the maintenance pass calls again and sweeps the backlog within one pass
            let pass = try await engine.coordinator.maintenance.promote()
            #expect(pass.rateLogs == keys - Limits.rateLogSweep)
            #expect(try await indexed() == 0)
            let logs = (0..<keys).map { RedisArgument(engine.keys.rateStarts("api-k\($0)")) }
            #expect(try await engine.redis.send(RedisCommand("EXISTS", logs)).decodeInt() == 0)
        }
    }
}
