import JobqRedis
import Testing

@testable import JobqCore

/// `jobq doctor` and the concurrency-limit counts (issue 12): a count left wrong by a RUNNING
/// record deleted by hand or by a corrupted field is found (with its stored and actual running),
/// repaired in one atomic call that wakes the slots it frees, and the limit holds afterwards,
/// checked against the test's own record of what runs. Old-format records (before 2026-12-07)
/// are found and migrated.
@Suite("Doctor: concurrency-limit counts", .enabled(if: redisAvailable))
struct DoctorLimitCountTests {
    typealias Kind = LimitCountCheck.Problem.Kind

    static func keyed(_ id: String, _ key: String, limit: Int) -> TaskSpec {
        var task = spec(id)
        task.concurrency = ConcurrencyLimit(key: key, limit: limit)
        return task
    }

    static func send(_ engine: EngineFixture, _ name: String, _ arguments: RedisArgument...) async throws {
        try await engine.redis.send(RedisCommand(name, arguments)).throwIfError()
    }

    /// What a "nothing changed" check compares: the counts, the parked index, every parked list
    /// of `keys`, the ready list.
    static func limitState(_ engine: EngineFixture, keys: [String]) async throws -> [String] {
        var state = try await engine.redis.send("HGETALL", RedisArgument(engine.keys.limitCounts)).decodeArray().map { try $0.decodeString() }
        state += try await engine.redis.send("SMEMBERS", RedisArgument(engine.keys.limitParkedKeys)).decodeArray().map { try $0.decodeString() }.sorted()
        for key in keys { state += ["|"] + (try await engine.list(engine.keys.limitParked(key))) }
        state += ["|"] + (try await engine.readyList())
        return state
    }

    static func count(_ engine: EngineFixture, _ key: String) async throws -> String? {
        try await engine.redis.send("HGET", RedisArgument(engine.keys.limitCounts), RedisArgument(key)).decodeOptionalString()
    }

    /// Claims and completes until nothing is left, recording what runs per key; the limit is
    /// checked after every claim against that record (never the scripts' own count).
    static func drainHoldingLimits(_ engine: EngineFixture, running initial: [ClaimedTask], limits: [String: Int], keyOf: (String) -> String?) async throws -> Set<String> {
        var held = initial
        var done: Set<String> = []
        for _ in 0..<100 {
            var perKey: [String: Int] = [:]
            for task in held { if let key = keyOf(task.id) { perKey[key, default: 0] += 1 } }
            for (key, n) in perKey { #expect(n <= limits[key] ?? 0, "\(key): \(n) running, limit \(limits[key] ?? 0)") }
            guard !held.isEmpty else { break }
            // end one per key (the oldest), keep the rest running while the next claim happens
            var ending: [ClaimedTask] = []
            var ended: Set<String> = []
            for task in held where !ended.contains(keyOf(task.id) ?? task.id) {
                ended.insert(keyOf(task.id) ?? task.id)
                ending.append(task)
            }
            _ = try await engine.coordinator.leases.complete(ending.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
            done.formUnion(ending.map(\.id))
            held.removeAll { task in ending.contains { $0.id == task.id } }
            held += try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
        }
        #expect(held.isEmpty, "still running: \(held.map(\.id))")
        return done
    }

    @Test func aDeletedRunningRecordAndACorruptedCountAreFoundThenRepairedAndTheLimitHolds() async throws {
        try await withEngine { engine in
            let limits = ["tenant-a": 2, "tenant-b": 3, "tenant-c": 1]
            let ids = ["a1", "a2", "a3", "a4", "a5", "a6", "b1", "b2", "c1", "c2"]
            func keyOf(_ id: String) -> String? { "tenant-" + String(id.prefix(1)) }
            _ = try await engine.coordinator.tasks.submit(ids.map { Self.keyed($0, keyOf($0)!, limit: limits[keyOf($0)!]!) })
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 20, lease: .seconds(30), worker: "w")
            #expect(claimed.map(\.id) == ["a1", "a2", "b1", "b2", "c1"])
            #expect(try await engine.list(engine.keys.limitParked("tenant-a")) == ["a3", "a4", "a5", "a6"])
            #expect(try await engine.coordinator.maintenance.diagnose().limits.problems.isEmpty)

            // a1's record deleted by hand while it runs: tenant-a's count stays 2 with 1 running
            try await Self.send(engine, "DEL", RedisArgument(engine.keys.task("a1")))
            // tenant-b's count corrupted; c's parked list lost from the index; a leftover field
            try await Self.send(engine, "HSET", RedisArgument(engine.keys.limitCounts), "tenant-b", "5 3", "tenant-y", "garbage", "tenant-z", "0 4")
            try await Self.send(engine, "SREM", RedisArgument(engine.keys.limitParkedKeys), "tenant-c")
            let watched = ["tenant-a", "tenant-b", "tenant-c", "tenant-y", "tenant-z"]
            let before = try await Self.limitState(engine, keys: watched)

            let report = try await engine.coordinator.maintenance.diagnose()
            #expect(report.limits.recounted && report.limits.runningTasks == 5 && report.limits.countedKeys == 5)
            let found = report.limits.problems.map { "\($0.kind.rawValue) \($0.key) \($0.stored) \($0.actual) \($0.parked)" }
            #expect(found == [
                "limit_count_drift tenant-a 2 1 4", "limit_count_drift tenant-b 5 2 0",
                "limit_parked_unindexed tenant-c 1 1 1", "limit_count_drift tenant-y 0 0 0", "limit_count_leftover tenant-z 0 0 0",
            ], "\(report.limits.problems)")
            #expect(report.limits.problems.map(\.fix) == [
                "set running 2 -> 1; wake up to 1 parked", "set running 5 -> 2", "add to limit_parked_keys", "drop field", "drop field",
            ])
            #expect(report.limits.problems.first?.fix == "set running 2 -> 1; wake up to 1 parked")
            #expect(report.limits.problems.first?.limit == 2)
            #expect(report.problems.map(\.kind) == [.staleLeaseEntry]) // a1 is still in `leases`
            #expect(report.unresolvedCount == 5) // the stale lease entry and 4 key problems; the leftover is harmless
            #expect(try await Self.limitState(engine, keys: watched) == before, "the check changed something")

            let repaired = try await engine.coordinator.maintenance.repair(report)
            #expect(repaired.limits.problems.allSatisfy { $0.outcome == $0.fix }, "\(repaired.limits.problems)")
            #expect(repaired.unresolvedCount == 0)
            #expect(try await Self.count(engine, "tenant-a") == "1 2")
            #expect(try await Self.count(engine, "tenant-b") == "2 3")
            #expect(try await Self.count(engine, "tenant-c") == "1 1")
            #expect(try await Self.count(engine, "tenant-y") == nil)
            #expect(try await Self.count(engine, "tenant-z") == nil)
            // the freed slot woke the oldest parked task, at the front of its lane
            #expect(try await engine.readyList() == ["a3"])
            #expect(try await engine.list(engine.keys.limitParked("tenant-a")) == ["a4", "a5", "a6"])
            #expect(Set(try await engine.zsetMembers(engine.keys.leases)) == ["a2", "b1", "b2", "c1"])
            #expect(Set(try await engine.redis.send("SMEMBERS", RedisArgument(engine.keys.limitParkedKeys)).decodeArray().map { try $0.decodeString() }) == ["tenant-a", "tenant-c"])
            let after = try await engine.coordinator.maintenance.diagnose()
            #expect(after.isConsistent, "\(after.problems) \(after.limits.problems)")

            // everything runs to the end, never more than the limit of a key at once
            let running = claimed.filter { $0.id != "a1" }
            let done = try await Self.drainHoldingLimits(engine, running: running, limits: limits, keyOf: keyOf)
            #expect(done == Set(ids).subtracting(["a1"]))
            #expect(try await engine.redis.send("HLEN", RedisArgument(engine.keys.limitCounts)).decodeInt() == 0)
            #expect(try await engine.coordinator.maintenance.diagnose().isConsistent)
        }
    }

    /// A healthy namespace with keys running and parked: no finding.
    @Test func aCleanNamespaceWithKeysRunningAndParkedHasNoFinding() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit((0..<9).map { Self.keyed("t\($0)", "k\($0 % 3)", limit: 2) } + [spec("free")])
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 20, lease: .seconds(30), worker: "w")
            #expect(claimed.count == 7)
            let report = try await engine.coordinator.maintenance.diagnose()
            #expect(report.isConsistent, "\(report.limits.problems)")
            #expect(report.limits.recounted && report.limits.runningTasks == 7 && report.limits.countedKeys == 3 && report.limits.parkedKeys == 3)
            #expect(report.limits.notes.isEmpty)
            // a completion wakes a parked task: queued, not running yet, with a free slot; still clean
            _ = try await engine.coordinator.leases.complete([Completion(lease: claimed[0].lease, result: Array("1".utf8))])
            #expect(try await engine.coordinator.maintenance.diagnose().isConsistent)
        }
    }

    /// Above the cap the recount is skipped with a note, and a repair changes no count.
    @Test func aboveTheCapTheRecountIsSkippedAndNothingChanges() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit((0..<4).map { Self.keyed("t\($0)", "k", limit: 3) })
            #expect(try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w").count == 3)
            try await Self.send(engine, "HSET", RedisArgument(engine.keys.limitCounts), "k", "9 3")
            let before = try await Self.limitState(engine, keys: ["k"])
            let report = try await engine.coordinator.maintenance.diagnose(limitCap: 2)
            #expect(!report.limits.recounted && report.limits.problems.isEmpty && report.limits.runningTasks == 3 && report.limits.cap == 2)
            #expect(report.limits.notes.map(\.code) == ["limit_recount_skipped"])
            #expect(report.limits.notes.first?.message.contains("3 task(s) running") == true)
            #expect(report.limits.notes.first?.message.contains("at most 2") == true)
            let repaired = try await engine.coordinator.maintenance.repair(report)
            #expect(!repaired.limits.recounted && repaired.unresolvedCount == 0)
            #expect(try await Self.limitState(engine, keys: ["k"]) == before)
            // at the default cap it is found
            let found = try await engine.coordinator.maintenance.diagnose()
            #expect(found.limits.problems.map { "\($0.kind.rawValue) \($0.stored) \($0.actual)" } == ["limit_count_drift 9 3"])
        }
    }

    /// The script refuses a bound that is not a positive integer, writing nothing.
    @Test func aBadBoundIsRefused() async throws {
        try await withEngine { engine in
            for cap in [0, -1] {
                await #expect(throws: JobqError.self) { try await engine.coordinator.maintenance.runner.run(DoctorLimitsCall(mode: .repair, cap: cap)) }
                await #expect(throws: JobqError.self) { try await engine.coordinator.maintenance.runner.run(DoctorLegacyLimitsCall(mode: .repair, batch: cap)) }
            }
            let written = try await engine.keySnapshot()
            #expect(written.isEmpty)
        }
    }

    /// An upgrade from a version before 2026-12-07: counts in `limit:<key>` hashes listed in
    /// `limits`, nothing in `limit_counts` or `limit_parked_keys` for them. doctor reports them;
    /// --repair migrates (parked keys indexed, free slots woken, old keys gone, counts recounted);
    /// a second run is clean.
    @Test func oldFormatRecordsAreReportedAndMigrated() async throws {
        try await withEngine { engine in
            // x: x1 RUNNING (limit 1), x2 parked; w: limit 2, w1 parked while nothing runs any
            // more (its old running task ended after the upgrade); y: an old record, nothing else
            _ = try await engine.coordinator.tasks.submit([Self.keyed("x1", "tenant-x", limit: 1), Self.keyed("x2", "tenant-x", limit: 1)])
            let running = try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
            #expect(running.map(\.id) == ["x1"])
            _ = try await engine.coordinator.tasks.submit([Self.keyed("w1", "tenant-w", limit: 2)])
            try await Self.send(engine, "LREM", RedisArgument(engine.keys.ready("default")), 0, "w1")
            try await Self.send(engine, "RPUSH", RedisArgument(engine.keys.limitParked("tenant-w")), "w1")
            // the state an old version left: its records, none of the new ones
            try await Self.send(engine, "DEL", RedisArgument(engine.keys.limitCounts), RedisArgument(engine.keys.limitParkedKeys))
            try await Self.send(engine, "HSET", RedisArgument(engine.keys.legacyLimit("tenant-x")), "running", 1, "limit", 1)
            try await Self.send(engine, "HSET", RedisArgument(engine.keys.legacyLimit("tenant-w")), "running", 1, "limit", 2)
            try await Self.send(engine, "HSET", RedisArgument(engine.keys.legacyLimit("tenant-y")), "running", 0, "limit", 5)
            try await Self.send(engine, "SADD", RedisArgument(engine.keys.legacyLimits), "tenant-x", "tenant-w", "tenant-y")
            let before = try await engine.keySnapshot()

            let report = try await engine.coordinator.maintenance.diagnose()
            #expect(report.limits.legacyKeys == 3)
            #expect(report.limits.notes.map(\.code) == ["legacy_limit_records"])
            #expect(report.limits.problems.map { "\($0.kind.rawValue) \($0.key) \($0.stored) \($0.actual)" } == ["limit_count_drift tenant-x 0 1"])
            #expect(!report.isConsistent && report.unresolvedCount == 2)
            #expect(try await engine.keySnapshot() == before)

            let repaired = try await engine.coordinator.maintenance.repair(report)
            #expect(repaired.limits.legacyMigrated == 3 && repaired.limits.legacyIndexed == 2)
            #expect(repaired.unresolvedCount == 0)
            #expect(repaired.limits.notes.first?.message.contains("migrated 3 of 3") == true)
            for key in ["tenant-x", "tenant-w", "tenant-y"] {
                #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.legacyLimit(key))).decodeInt() == 0)
            }
            #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.legacyLimits)).decodeInt() == 0)
            #expect(try await Self.count(engine, "tenant-x") == "1 1")
            #expect(try await Self.count(engine, "tenant-w") == nil) // woken: nothing runs or is parked
            #expect(try await engine.readyList() == ["w1"])
            #expect(try await engine.redis.send("SMEMBERS", RedisArgument(engine.keys.limitParkedKeys)).decodeArray().map { try $0.decodeString() } == ["tenant-x"])
            #expect(try await engine.coordinator.maintenance.diagnose().isConsistent)
            // x2 is woken by x1's completion now that its key is indexed
            _ = try await engine.coordinator.leases.complete([Completion(lease: running[0].lease, result: Array("1".utf8))])
            #expect(Set(try await engine.readyList()) == ["w1", "x2"])
            #expect(Set(try await engine.drain()) == ["w1", "x2"])
            #expect(try await engine.coordinator.maintenance.diagnose().isConsistent)
        }
    }

    /// More old keys than one call migrates: the Swift side loops, each call bounded.
    @Test func manyOldKeysAreMigratedInBoundedCalls() async throws {
        try await withEngine { engine in
            let n = LimitCountCheck.legacyBatch * 2 + 7
            var commands: [RedisCommand] = []
            for i in 0..<n {
                commands.append(RedisCommand("HSET", [RedisArgument(engine.keys.legacyLimit("k\(i)")), "running", "0", "limit", "1"]))
            }
            commands.append(RedisCommand("SADD", [RedisArgument(engine.keys.legacyLimits)] + (0..<n).map { RedisArgument("k\($0)") }))
            for reply in try await engine.redis.pipeline(commands) { try reply.throwIfError() }
            let one = try await engine.coordinator.maintenance.runner.run(DoctorLegacyLimitsCall(mode: .repair, batch: LimitCountCheck.legacyBatch))
            #expect(one.taken == LimitCountCheck.legacyBatch && one.left == n - LimitCountCheck.legacyBatch && one.indexed == 0)
            let checked = try await engine.coordinator.maintenance.runner.run(DoctorLegacyLimitsCall(mode: .check, batch: LimitCountCheck.legacyBatch))
            #expect(checked.taken == 0 && checked.left == n - LimitCountCheck.legacyBatch)
            let report = try await engine.coordinator.maintenance.diagnose()
            #expect(report.limits.legacyKeys == n - LimitCountCheck.legacyBatch)
            let repaired = try await engine.coordinator.maintenance.repair(report)
            #expect(repaired.limits.legacyMigrated == n - LimitCountCheck.legacyBatch)
            #expect(try await engine.keySnapshot().isEmpty)
        }
    }
}
