import JobqRedis
import Testing

@testable import JobqCore

/// The limit-count recount at its cap stays under the 10 ms bar: `LimitCountCheck.defaultCap`
/// RUNNING tasks, each of its own key (as many fields in `limit_counts`) with a task parked
/// behind it (as many parked keys), every count corrupted and a fifth of the running records
/// deleted, so the repair writes every field and wakes a fifth of the keys. On a private
/// server, read back from SLOWLOG (BoundedScriptTests); the longest calls are printed.
@Suite("Doctor: limit recount at the cap", .enabled(if: redisAvailable), .serialized)
struct DoctorLimitBoundTests {
    @Test func theRecountAtTheCapStaysUnderTenMilliseconds() async throws {
        try await BoundedScriptTests.overTheBarTwice("doctor limit recount") { server in try await exercise(server) }
    }

    func exercise(_ server: BoundedScriptTests.Server) async throws -> [String] {
        let coordinator = server.coordinator
        let keys = LimitCountCheck.defaultCap
        func keyed(_ id: String, _ key: Int) -> TaskSpec {
            var task = BoundedScriptTests.noop(id)
            task.concurrency = ConcurrencyLimit(key: "k\(key)", limit: 1)
            return task
        }
        func claimAll() async throws -> [ClaimedTask] {
            var claimed: [ClaimedTask] = []
            // a claim parks at most 64 a call and may answer none: go on while tasks are queued
            while try await server.client.send("LLEN", RedisArgument(coordinator.keys.ready("default"))).decodeInt() > 0 {
                claimed += try await coordinator.leases.claim(queues: ["default"], count: 500, lease: .seconds(3600), worker: "w")
            }
            return claimed
        }
        for start in stride(from: 0, to: keys, by: 500) {
            _ = try await coordinator.tasks.submit((start..<start + 500).map { keyed("r\($0)", $0) })
        }
        #expect(try await claimAll().count == keys)
        for start in stride(from: 0, to: keys, by: 500) {
            _ = try await coordinator.tasks.submit((start..<start + 500).map { keyed("p\($0)", $0) })
        }
        #expect(try await claimAll().isEmpty) // every one parked behind its key's running task
        #expect(try await server.client.send("SCARD", RedisArgument(coordinator.keys.limitParkedKeys)).decodeInt() == keys)
        var healthy = DoctorReport(tasksScanned: 0, problems: [])
        let clean = try await server.calls { healthy = try await coordinator.maintenance.diagnose() }
        #expect(healthy.isConsistent)
        var damage: [RedisCommand] = [RedisCommand("HSET", [RedisArgument(coordinator.keys.limitCounts)] + (0..<keys).flatMap { [RedisArgument("k\($0)"), "2 1"] })]
        damage += (0..<keys / 5).map { RedisCommand("DEL", [RedisArgument(coordinator.keys.task("r\($0)"))]) }
        for reply in try await server.client.pipeline(damage) { try reply.throwIfError() }

        var report = DoctorReport(tasksScanned: 0, problems: [])
        let check = try await server.calls { report = try await coordinator.maintenance.diagnose() }
        #expect(report.limits.recounted && report.limits.problems.count == keys)
        var repaired = report
        let repair = try await server.calls { repaired = try await coordinator.maintenance.repair(report) }
        #expect(repaired.unresolvedCount == 0)
        #expect(try await server.client.send("LLEN", RedisArgument(coordinator.keys.ready("default"))).decodeInt() == keys / 5)
        #expect(try await coordinator.maintenance.diagnose().isConsistent)
        print("doctor limit recount at the cap (\(keys) running, \(keys) fields, \(keys) parked keys): clean \(clean.scripts.first.map { "\($0.0) \($0.1) µs" } ?? "every call under 1 ms"), damaged check \(check.scripts.first.map { "\($0.0) \($0.1) µs" } ?? "every call under 1 ms"), repair \(repair.scripts.first.map { "\($0.0) \($0.1) µs" } ?? "every call under 1 ms")")
        return (clean.scripts + check.scripts + repair.scripts).filter { $0.1 > BoundedScriptTests.barMicroseconds }.map { "\($0.0): \($0.1) µs" }
    }
}
