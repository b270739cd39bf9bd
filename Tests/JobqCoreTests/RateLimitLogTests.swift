import JobqRedis
import Testing

@testable import JobqCore

/// The rate key's log of starts as the claim keeps it cheaply (one ZCARD per key per call while
/// the log is not full, an exact count of the window only when it could be, no trim by rank): it
/// never holds more than N entries, entries out of the window never hold a start back, and a
/// pause is found through `rate_pauses` (one read per call) without a read per key.
@Suite("rate limits: the log of starts and the pause index", .enabled(if: redisAvailable))
struct RateLimitLogTests {
    static func logSize(_ engine: EngineFixture, _ key: String) async throws -> Int {
        try await engine.redis.send("ZCARD", RedisArgument(engine.keys.rateStarts(key))).decodeInt()
    }

    @Test func theLogHoldsAtMostNEntriesAndOldStartsNeverHoldBackANewOne() async throws {
        try await withEngine { engine in
            let n = 3
            _ = try await engine.coordinator.tasks.submit((0..<30).map { RateLimitScriptTests.rated("t\($0)", tenant: "x", count: n, per: .milliseconds(1000)) })
            var starts: [Int64] = []
            // one claim every 400 ms: the window never holds more than 3, so no task is ever
            // parked, yet the log fills up with starts that left the window
            for _ in 0..<24 {
                let claimed = try await RateLimitScriptTests.claim(engine, 1)
                #expect(claimed.count == 1, "a start held back by starts outside the window")
                starts += claimed.map { _ in engine.clock.now }
                try await RateLimitScriptTests.done(engine, claimed)
                #expect(try await Self.logSize(engine, "api-x") <= n)
                engine.clock.advance(by: .milliseconds(400))
            }
            #expect(try await engine.list(engine.keys.rateParked("api-x")).isEmpty)
            // a burst now: the log is full of old starts, the window holds the last two or three
            let inWindow = starts.filter { $0 > engine.clock.now - 1000 }.count
            let burst = try await RateLimitScriptTests.claim(engine, 5)
            #expect(burst.count == n - inWindow)
            starts += burst.map { _ in engine.clock.now }
            #expect(try await Self.logSize(engine, "api-x") <= n)
            #expect(try await engine.list(engine.keys.rateParked("api-x")).count == 30 - starts.count)
            // the independent record: never more than n starts in any window of 1,000 ms
            for (index, time) in starts.enumerated() {
                #expect(starts[index...].prefix { $0 < time + 1000 }.count <= n, "window at \(time): \(starts)")
            }
        }
    }

    @Test func aFullLogOfOldStartsIsCountedExactlyAndTrimmed() async throws {
        try await withEngine { engine in
            let start = engine.clock.now
            _ = try await engine.coordinator.tasks.submit((1...2).map { RateLimitScriptTests.rated("a\($0)", tenant: "a", count: 2, per: .seconds(1)) })
            #expect(try await RateLimitScriptTests.claim(engine).count == 2)
            #expect(try await Self.logSize(engine, "api-a") == 2)
            engine.clock.advance(by: .milliseconds(1500))
            _ = try await engine.coordinator.tasks.submit((3...5).map { RateLimitScriptTests.rated("a\($0)", tenant: "a", count: 2, per: .seconds(1)) })
            // both old starts are out of the window: two start, the third waits for them
            let batch = try await RateLimitScriptTests.claimBatch(engine)
            #expect(batch.tasks.map(\.id) == ["a3", "a4"])
            #expect(batch.rateWake == start + 2500)
            #expect(try await engine.list(engine.keys.rateParked("api-a")) == ["a5"])
            // the old entries went with the new starts: the log is the window
            #expect(try await Self.logSize(engine, "api-a") == 2)
        }
    }

    @Test func aPauseIsFoundThroughItsIndexAndLeavesItWhenItEnds() async throws {
        try await withEngine { engine in
            let start = engine.clock.now
            _ = try await engine.coordinator.tasks.submit([
                RateLimitScriptTests.rated("p1", tenant: "p", count: 100, per: .seconds(60)),
                RateLimitScriptTests.rated("p2", tenant: "p", count: 100, per: .seconds(60)),
            ])
            let first = try await RateLimitScriptTests.claim(engine, 1)
            #expect(first.map(\.id) == ["p1"])
            _ = try await engine.coordinator.leases.fail([Failure(lease: first[0].lease, mode: .rateLimited(delay: .seconds(10), retryDelay: .zero), reason: "rate_limited", message: "429")])
            #expect(try await engine.redis.send("ZSCORE", RedisArgument(engine.keys.ratePauses), "api-p").decodeOptionalString() == String(start + 10_000))
            // while one key is paused: its tasks park, another key's start (its pause read finds none)
            _ = try await engine.coordinator.tasks.submit([RateLimitScriptTests.rated("q1", tenant: "q", count: 100, per: .seconds(60))])
            #expect(try await RateLimitScriptTests.claim(engine).map(\.id) == ["q1"])
            #expect(try await engine.list(engine.keys.rateParked("api-p")) == ["p1", "p2"])
            // the pause ends: the key wakes, the pause leaves its index
            engine.clock.advance(by: .seconds(10))
            #expect(try await engine.coordinator.maintenance.promote().rateKeys == 1)
            #expect(try await engine.zsetMembers(engine.keys.ratePauses).isEmpty)
            #expect(try await RateLimitScriptTests.claim(engine).map(\.id) == ["p1", "p2"])
        }
    }
}
