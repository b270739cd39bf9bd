import JobqRedis
import Testing

@testable import JobqCore

/// The exact bytes a plain life (submit → claim → complete, a retry, a dependent released) writes.
/// The scripts hand per-call constants to Redis as text made once per call (the clock, the lease
/// deadline, an attempt number; prelude.lua NOW_S), take a record's counts and times over as their
/// own text, and settle a task's dependents from one HLEN it passes on: each must write what
/// formatting the number in place wrote (every digit, no exponent, no fraction), checked here
/// against values computed from the test's own clock.
@Suite("plain life text", .enabled(if: redisAvailable))
struct PlainLifeTextTests {
    @Test func recordsEventsAttemptsAndScoresCarryWholeNumbers() async throws {
        try await withEngine { engine in
            engine.clock.advance(by: .milliseconds(65_432_101))  // 13 digits, not a round number
            let submitted = engine.clock.now
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b", after: ["a"]), spec("c")])
            engine.clock.advance(by: .milliseconds(7))
            let claimedAt = engine.clock.now
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(30), worker: "w1")
            #expect(Set(claimed.map(\.id)) == ["a", "c"])
            let deadline = claimedAt + 30_000
            #expect(try await engine.field("a", "created") == "\(submitted)")
            #expect(try await engine.field("a", "started") == "\(claimedAt)")
            #expect(try await engine.field("a", "lease") == "\(deadline)")
            #expect(try await engine.field("a", "attempts") == "1")
            #expect(try await score(engine, engine.keys.leases, "a") == "\(deadline)")

            // c fails once and is claimed again: attempt 2
            let c = try #require(claimed.first { $0.id == "c" })
            #expect(try await engine.coordinator.leases.fail([Failure(lease: c.lease, mode: .retry(delay: .zero), reason: "error", message: "x y")]) == [.retrying])
            engine.clock.advance(by: .milliseconds(3))
            let reclaimedAt = engine.clock.now
            let again = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w2")
            #expect(again.map(\.id) == ["c"])
            #expect(try await engine.field("c", "attempts") == "2")

            engine.clock.advance(by: .milliseconds(11))
            let finished = engine.clock.now
            let a = try #require(claimed.first { $0.id == "a" })
            let done = try await engine.coordinator.leases.complete([
                Completion(lease: a.lease, result: Array("1".utf8)), Completion(lease: again[0].lease, result: Array("2".utf8)),
            ])
            #expect(done == [.done, .done])
            #expect(try await engine.field("a", "finished") == "\(finished)")
            #expect(try await score(engine, engine.keys.leases, "a") == nil)
            let ttl = try #require(Int64(try await score(engine, engine.keys.ended(.done), "a") ?? "")) - finished
            #expect(ttl > 0)
            #expect(try await score(engine, engine.keys.ended(.done), "c") == "\(finished + ttl)")
            // b's only prerequisite ended: released (queued), its count of unmet prerequisites gone to 0
            #expect(try await engine.readyList() == ["b"])
            #expect(try await engine.state("b") == .pending)

            // the attempt that made a task DONE is not stored (a's history key does not exist);
            // the history read adds it from the record, as the entry the script used to write
            #expect(try await engine.list(engine.keys.attempts("a")) == [])
            #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.attempts("a"))).decodeInt() == 0)
            #expect(try await engine.list(engine.keys.attempts("c")) == ["1\tw1\t\(claimedAt)\t\(claimedAt)\tretried\terror\tx y"])
            func entries(_ id: String) -> [[UInt8]] {
                id == "a" ? [Array("1\tw1\t\(claimedAt)\t\(finished)\tdone\t\t".utf8)]
                    : [Array("1\tw1\t\(claimedAt)\t\(claimedAt)\tretried\terror\tx y".utf8), Array("2\tw2\t\(reclaimedAt)\t\(finished)\tdone\t\t".utf8)]
            }
            #expect(try await engine.coordinator.tasks.attempts(of: ["a", "c"]) == [AttemptHistory(entries: entries("a")), AttemptHistory(entries: entries("c"))])
            let lines = try await eventLines(engine)
            #expect(lines.filter { $0.hasPrefix("a ") } == ["a - PENDING 0 ", "a PENDING RUNNING 1 ", "a RUNNING DONE 1 "])
            #expect(lines.filter { $0.hasPrefix("c ") } == [
                "c - PENDING 0 ", "c PENDING RUNNING 1 ", "c RUNNING PENDING 1 error", "c PENDING RUNNING 2 ", "c RUNNING DONE 2 ",
            ])
            #expect(lines.filter { $0.hasPrefix("b ") } == ["b - PENDING 0 "])
        }
    }

    private func score(_ engine: EngineFixture, _ key: String, _ member: String) async throws -> String? {
        try await engine.redis.send("ZSCORE", RedisArgument(key), RedisArgument(member)).decodeOptionalString()
    }

    /// Every audit line of the namespace, oldest first (entries hold up to 50 lines, field `e`).
    private func eventLines(_ engine: EngineFixture) async throws -> [String] {
        var lines: [String] = []
        for entry in try await engine.redis.send("XRANGE", RedisArgument(engine.keys.events), "-", "+").decodeArray() {
            let fields = try entry.decodeArray()[1].decodeArray().map { try $0.decodeString() }
            for index in stride(from: 0, to: fields.count - 1, by: 2) where fields[index] == "e" {
                lines += fields[index + 1].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            }
        }
        return lines
    }
}
