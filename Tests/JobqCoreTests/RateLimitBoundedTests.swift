import Foundation
import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqCore

/// Rate limits stay bounded (docs/guarantees.md, "Bounded scripts"): 20,000 tasks of one key
/// parked by claims of 500 and then woken when a handler's pause ends, on a private
/// redis-server on Redis time; every claim and promote call is read back from SLOWLOG and none
/// may take 10 ms. Like BoundedScriptTests, a run over the bar is repeated once on a fresh
/// server (a loaded machine can stall any command for a few ms).
@Suite("bounded scripts: rate limits", .enabled(if: redisAvailable), .serialized)
struct RateLimitBoundedTests {
    static let tasks = 20_000

    @Test func parkingAndWakingTwentyThousandTasksStaysUnderTenMilliseconds() async throws {
        try await BoundedScriptTests.overTheBarTwice("bounded rate limits") { server in try await exercise(server) }
    }

    private func exercise(_ server: BoundedScriptTests.Server) async throws -> [String] {
        let coordinator = server.coordinator
        var bar = BarRecord()
        // a rate the backlog never reaches, so that only the pause holds it back
        let specs = (0..<Self.tasks).map { index -> TaskSpec in
            var task = BoundedScriptTests.noop("r" + String(index))
            task.rate = RateLimit(RateLimit.maxCount, per: .seconds(1), key: "api")
            return task
        }
        for start in stride(from: 0, to: specs.count, by: 500) {
            _ = try await coordinator.tasks.submit(Array(specs[start..<(start + 500)]))
        }
        // the first task's handler reports a 429: the key pauses for 2 s
        let first = try await coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(60), worker: "w")
        _ = try await coordinator.leases.fail([Failure(lease: first[0].lease, mode: .rateLimited(delay: .seconds(2), retryDelay: .zero), reason: "rate_limited", message: "429")])
        // claims of 500 meet the paused key and park the whole backlog (each pops its budget)
        bar.record("park 20,000 tasks of a paused key", try await server.calls {
            while try await server.client.send("LLEN", RedisArgument(coordinator.keys.ready("default"))).decodeInt() > 0 {
                let got = try await coordinator.leases.claim(queues: ["default"], count: 500, lease: .seconds(60), worker: "w")
                #expect(got.isEmpty)
            }
        })
        #expect(try await server.client.send("LLEN", RedisArgument(coordinator.keys.rateParked("api"))).decodeInt() == Self.tasks)
        try await Task.sleep(for: .milliseconds(2_100))
        // the pause ends: promote wakes them 64 at a time and claims of 500 start them
        var started = 0
        bar.record("wake and start 20,000 parked tasks", try await server.calls {
            var rounds = 0
            while started < Self.tasks && rounds < 5_000 {
                rounds += 1
                _ = try await coordinator.maintenance.promote()
                let got = try await coordinator.leases.claim(queues: ["default"], count: 500, lease: .seconds(60), worker: "w")
                started += got.count
                if got.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
            }
        })
        #expect(started == Self.tasks)
        #expect(try await server.client.send("ZCARD", RedisArgument(coordinator.keys.rates)).decodeInt() == 0)
        for line in bar.report { print("bounded rate limits: " + line) }
        return bar.violations
    }
}
