import Foundation
import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqCore

/// Fair claiming stays bounded (docs/guarantees.md, "Bounded scripts"): a backlog of 10,000
/// tasks of one key plus one task each of 1,000 other keys and 1,000 unkeyed tasks, submitted
/// 100 a call and drained by claims of 500 (each taking at most 128 turns) on a private
/// redis-server; every submit and claim call is read back from
/// SLOWLOG and none may take 10 ms (a run over the bar is repeated once on a fresh server, as in
/// BoundedScriptTests). The ring is gone at the end.
@Suite("bounded scripts: fair claiming", .enabled(if: redisAvailable), .serialized)
struct FairClaimBoundedTests {
    static let big = 10_000
    static let keys = 1_000

    @Test func claimingTwelveThousandTasksOverAThousandKeysStaysUnderTenMilliseconds() async throws {
        try await BoundedScriptTests.overTheBarTwice("bounded fair claiming") { server in try await exercise(server) }
    }

    private func exercise(_ server: BoundedScriptTests.Server) async throws -> [String] {
        let coordinator = server.coordinator
        var bar = BarRecord()
        func task(_ id: String, key: String?) -> TaskSpec {
            var task = BoundedScriptTests.noop(id)
            task.fairKey = key
            return task
        }
        let specs = (0..<Self.big).map { task("big\($0)", key: "big") }
            + (0..<Self.keys).flatMap { [task("k\($0)", key: "tenant-\($0)"), task("u\($0)", key: nil)] }
        bar.record("submit 12,000 tasks, 1,001 fair keys", try await server.calls {
            for start in stride(from: 0, to: specs.count, by: 100) {
                _ = try await coordinator.tasks.submit(Array(specs[start..<min(start + 100, specs.count)]))
            }
        })
        #expect(try await server.client.send("LLEN", RedisArgument(coordinator.keys.fairRing("default", priority: 0))).decodeInt() == Self.keys + 2)
        var claimed: [String] = []
        // a claim of 500 stops after 128 turns (and says so with a wake-up token)
        bar.record("claim 12,000 tasks in turns, 500 a call", try await server.calls {
            var rounds = 0
            while rounds < 200 {
                rounds += 1
                let got = try await coordinator.leases.claim(queues: ["default"], count: 500, lease: .seconds(60), worker: "w")
                if got.isEmpty { break }
                claimed += got.map(\.id)
            }
        })
        #expect(claimed.count == specs.count)
        // the first claim already took every key's turn: each tenant and the unkeyed list once
        // per rotation, the big key only once per rotation too
        let firstRotation = claimed.prefix(Self.keys + 2)
        #expect(firstRotation.filter { $0.hasPrefix("big") }.count == 1, "\(firstRotation.prefix(10))")
        #expect(claimed.lastIndex { $0.hasPrefix("k") } ?? .max < 2 * (Self.keys + 2))
        #expect(try await server.client.send("EXISTS", RedisArgument(coordinator.keys.fairRing("default", priority: 0))).decodeInt() == 0)
        for line in bar.report { print("bounded fair claiming: " + line) }
        return bar.violations
    }
}
