import JobqRedis
import Testing

@testable import JobqCore

/// `jobq doctor`: each invariant broken by hand, then diagnosed, repaired, and drained.
@Suite("Doctor", .enabled(if: redisAvailable))
struct DoctorTests {
    typealias Kind = DoctorReport.Problem.Kind

    /// Diagnoses, checks the kinds found per task, repairs, and checks that a second diagnosis
    /// finds nothing. Returns the repaired report.
    @discardableResult
    private func diagnoseAndRepair(
        _ engine: EngineFixture, expect expected: [String: Kind], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> DoctorReport {
        let report = try await engine.coordinator.maintenance.diagnose()
        let found = Dictionary(report.problems.map { ($0.task, $0.kind) }, uniquingKeysWith: { first, _ in first })
        #expect(found == expected, "problems: \(report.problems)", sourceLocation: sourceLocation)
        #expect(report.problems.allSatisfy { $0.outcome == nil && $0.fix != "ok" }, sourceLocation: sourceLocation)
        let repaired = try await engine.coordinator.maintenance.repair(report)
        #expect(repaired.problems.allSatisfy { $0.outcome != nil && $0.outcome != "ok" }, "\(repaired.problems)", sourceLocation: sourceLocation)
        #expect(repaired.unresolved.isEmpty, sourceLocation: sourceLocation)
        let after = try await engine.coordinator.maintenance.diagnose()
        #expect(after.isConsistent, "still: \(after.problems)", sourceLocation: sourceLocation)
        return repaired
    }

    private func send(_ engine: EngineFixture, _ name: String, _ arguments: RedisArgument...) async throws {
        try await engine.redis.send(RedisCommand(name, arguments)).throwIfError()
    }

    /// Recovered and quarantined work is dispatched work: not "stranded". A stale id left in one
    /// of those lanes is found and removed from it.
    @Test func theRecoveredAndQuarantineLanesAreQueuesToo() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b"), spec("gone")])
            // Their workers die under them twice: quarantine. Then "gone" is cancelled there.
            for worker in ["dead1", "dead2"] {
                _ = try await engine.coordinator.leases.claim(queues: ["default"], count: 3, lease: .seconds(3), worker: worker)
                engine.clock.advance(by: .seconds(4))
                _ = try await engine.coordinator.maintenance.reap()
            }
            #expect(Set(try await engine.list(engine.keys.quarantine("default"))) == ["a", "b", "gone"])
            _ = try await engine.coordinator.tasks.cancel(task: "gone")
            try await diagnoseAndRepair(engine, expect: ["gone": .staleReadyEntry])
            #expect(Set(try await engine.list(engine.keys.quarantine("default"))) == ["a", "b"])
        }
    }

    @Test func cleanNamespaceReportsNothing() async throws {
        try await withEngine { engine in
            #expect(try await engine.coordinator.maintenance.diagnose() == DoctorReport(tasksScanned: 0, problems: []))
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b", after: ["a"]), spec("c", after: ["a", "b"], policy: .always)])
            _ = try await engine.coordinator.tasks.submit([TaskSpec(id: "later", handler: "noop", payload: Array("{}".utf8), delay: .seconds(60))])
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            #expect(claimed.map(\.id) == ["a"])
            let running = try await engine.coordinator.maintenance.diagnose()
            #expect(running.isConsistent && running.tasksScanned == 4, "\(running.problems)")
            _ = try await engine.coordinator.leases.complete([Completion(lease: claimed[0].lease, result: Array("1".utf8))])
            engine.clock.advance(by: .seconds(61))
            #expect(try await engine.coordinator.maintenance.promote().promoted == 1)
            #expect(Set(try await engine.drain()) == ["b", "c", "later"])
            let drained = try await engine.coordinator.maintenance.diagnose()
            #expect(drained.isConsistent && drained.tasksScanned == 4, "\(drained.problems)")
            for id in ["a", "b", "c", "later"] { #expect(try await engine.state(id) == .done) }
        }
    }

    @Test func runningTaskMissingFromTheLeaseIndexIsReindexed() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("x"), spec("y")])
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(30), worker: "w")
            #expect(claimed.count == 2)
            try await send(engine, "ZREM", RedisArgument(engine.keys.leases), "x")
            try await send(engine, "ZREM", RedisArgument(engine.keys.leases), "y")
            try await send(engine, "HDEL", RedisArgument(engine.keys.task("y")), "lease")
            try await diagnoseAndRepair(engine, expect: ["x": .runningWithoutLease, "y": .runningWithoutLease])
            let deadline = try #require(try await engine.field("x", "lease"))
            let score = try await engine.redis.send("ZSCORE", RedisArgument(engine.keys.leases), "x").decodeString()
            #expect(score == deadline)
            #expect(try await engine.field("y", "lease") == String(engine.clock.now))
            // y's lease is "now": the reaper takes it at once; x's when its lease runs out.
            #expect(try await engine.coordinator.maintenance.reap().map(\.id) == ["y"])
            engine.clock.advance(by: .seconds(31))
            #expect(try await engine.coordinator.maintenance.reap().map(\.id) == ["x"])
            #expect(Set(try await engine.drain()) == ["x", "y"])
        }
    }

    @Test func staleLeaseReadyAndIndexEntriesAreDropped() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("done"), spec("waiting", after: ["held"], policy: .always), spec("held")])
            let held = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            #expect(held.map(\.id) == ["done"])
            _ = try await engine.coordinator.leases.complete([Completion(lease: held[0].lease, result: Array("1".utf8))])
            try await send(engine, "ZADD", RedisArgument(engine.keys.leases), 5, "ghost", 5, "done")
            try await send(engine, "LPUSH", RedisArgument(engine.keys.ready("default")), "ghost", "done")
            try await send(engine, "ZADD", RedisArgument(engine.keys.delayed), 5, "ghost2")
            try await send(engine, "ZADD", RedisArgument(engine.keys.ended(.failed)), 5, "waiting")
            try await send(engine, "ZADD", RedisArgument(engine.keys.ended(.cancelled)), 5, "ghost3")

            let report = try await engine.coordinator.maintenance.diagnose()
            let found = Set(report.problems.map { "\($0.kind.rawValue) \($0.task) \($0.location ?? "-")" })
            #expect(found == [
                "stale_lease_entry ghost leases", "stale_lease_entry done leases",
                "stale_ready_entry ghost q:default", "stale_ready_entry done q:default",
                "stale_index_entry ghost2 delayed", "stale_index_entry waiting s:FAILED", "stale_index_entry ghost3 s:CANCELLED",
            ])
            // Stale ready ids are expected (claim drops them): not a reason to fail on their own.
            #expect(report.unresolved.count == 5)
            let repaired = try await engine.coordinator.maintenance.repair(report)
            #expect(repaired.problems.allSatisfy { $0.outcome?.hasPrefix("remove from") == true }, "\(repaired.problems)")
            #expect(try await engine.zsetMembers(engine.keys.leases).isEmpty)
            #expect(try await engine.readyList() == ["held"])
            #expect(try await engine.zsetMembers(engine.keys.delayed).isEmpty)
            #expect(try await engine.zsetMembers(engine.keys.ended(.failed)).isEmpty)
            #expect(try await engine.zsetMembers(engine.keys.ended(.cancelled)).isEmpty)
            #expect(try await engine.zsetMembers(engine.keys.ended(.done)) == ["done"])
            #expect(try await engine.coordinator.maintenance.diagnose().isConsistent)
            #expect(try await engine.drain() == ["held", "waiting"])
        }
    }

    @Test func strandedTaskWithNothingLeftIsDispatched() async throws {
        try await withEngine { engine in
            // q is released when p completes; then its ready-list entry is lost (a lost write).
            _ = try await engine.coordinator.tasks.submit([spec("p"), spec("q", after: ["p"])])
            let p = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            #expect(p.map(\.id) == ["p"])
            _ = try await engine.coordinator.leases.complete([Completion(lease: p[0].lease, result: Array("1".utf8))])
            try await send(engine, "LREM", RedisArgument(engine.keys.ready("default")), 0, "q")

            // Diagnosing changes nothing.
            let report = try await engine.coordinator.maintenance.diagnose()
            #expect(try await engine.readyList().isEmpty)
            #expect(report.problems.map(\.fix) == ["dispatch to q:default"])
            try await diagnoseAndRepair(engine, expect: ["q": .stranded])
            #expect(try await engine.readyList() == ["q"])
            #expect(try await engine.drain() == ["q"])
        }
    }

    @Test func wrongDependencyCountersAreRecomputed() async throws {
        try await withEngine { engine in
            // high: stored 1, but its prerequisite is DONE (the stranded task of RQ/BullMQ fame).
            // low: stored 0, but its prerequisite has not run: it must not run first.
            _ = try await engine.coordinator.tasks.submit([spec("parent"), spec("high", after: ["parent"])])
            let parent = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            _ = try await engine.coordinator.leases.complete([Completion(lease: parent[0].lease, result: Array("1".utf8))])
            try await send(engine, "LREM", RedisArgument(engine.keys.ready("default")), 0, "high")
            try await send(engine, "HSET", RedisArgument(engine.keys.task("high")), "deps_left", 1)
            try await send(engine, "ZADD", RedisArgument(engine.keys.waiting), 1, "high")
            _ = try await engine.coordinator.tasks.submit([spec("first"), spec("low", after: ["first"])])
            try await send(engine, "HSET", RedisArgument(engine.keys.task("low")), "deps_left", 0)

            let repaired = try await diagnoseAndRepair(engine, expect: ["high": .wrongDepsLeft, "low": .wrongDepsLeft])
            let fixes = Dictionary(uniqueKeysWithValues: repaired.problems.map { ($0.task, $0.outcome ?? "") })
            #expect(fixes["high"] == "set deps_left 1 -> 0; dispatch to q:default")
            #expect(fixes["low"] == "set deps_left 0 -> 1")
            #expect(try await engine.field("high", "deps_left") == "0")
            #expect(try await engine.field("low", "deps_left") == "1")
            #expect(try await engine.zsetMembers(engine.keys.waiting) == ["low"])
            let order = try await engine.drain(batch: 1)
            #expect(Set(order) == ["high", "first", "low"])
            #expect(order.firstIndex(of: "first")! < order.firstIndex(of: "low")!)
        }
    }

    @Test func pendingTaskWhosePrerequisiteFailedIsCancelledWithItsDependents() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b", after: ["a"]), spec("c", after: ["b"]), spec("d", after: ["b"], policy: .always)])
            // a ends FAILED without settling its dependents (a write lost half-way).
            try await send(engine, "HSET", RedisArgument(engine.keys.task("a")), "state", "FAILED")
            try await send(engine, "ZADD", RedisArgument(engine.keys.ended(.failed)), RedisArgument(Int(engine.clock.now) + 1_000_000), "a")
            try await send(engine, "LREM", RedisArgument(engine.keys.ready("default")), 0, "a")

            try await diagnoseAndRepair(engine, expect: ["b": .dependencyFailed])
            #expect(try await engine.state("b") == .cancelled)
            #expect(try await engine.field("b", "reason") == "dependency_failed")
            #expect(try await engine.field("b", "cause") == "a")
            #expect(try await engine.state("c") == .cancelled)  // settled transitively
            #expect(try await engine.drain() == ["d"])            // `always` runs anyway
        }
    }

    @Test func corruptRecordsAreFailedAndTheirDependentsSettled() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("p"), spec("c", after: ["p"]), spec("bogus"), spec("fine")])
            try await send(engine, "HSET", RedisArgument(engine.keys.task("p")), "spec", "garbage")
            try await send(engine, "HSET", RedisArgument(engine.keys.task("bogus")), "state", "WEIRD")
            try await send(engine, "HSET", RedisArgument(engine.keys.task("stray")), "payload", "{}")  // no state at all
            let before = try await engine.keySnapshot()
            let report = try await engine.coordinator.maintenance.diagnose()
            #expect(try await engine.keySnapshot() == before)
            #expect(Set(report.problems.filter { $0.kind == .corruptRecord }.map(\.task)) == ["p", "bogus", "stray"])

            let repaired = try await engine.coordinator.maintenance.repair(report)
            #expect(repaired.unresolved.isEmpty)
            for id in ["p", "bogus", "stray"] {
                #expect(try await engine.state(id) == .failed)
                #expect(try await engine.field(id, "reason") == "corrupt_record")
            }
            #expect(try await engine.state("c") == .cancelled)
            #expect(try await engine.field("c", "cause") == "p")
            // The stale ready ids of the failed records are left for claim (harmless), or cleaned
            // by a second repair; either way only `fine` runs.
            _ = try await engine.coordinator.maintenance.repair()
            #expect(try await engine.coordinator.maintenance.diagnose().isConsistent)
            #expect(try await engine.drain() == ["fine"])
        }
    }

    @Test func aRepairNeverClobbersAConcurrentChange() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            try await send(engine, "LREM", RedisArgument(engine.keys.ready("default")), 0, "a")
            try await send(engine, "ZADD", RedisArgument(engine.keys.leases), 5, "ghost")
            let report = try await engine.coordinator.maintenance.diagnose()
            #expect(Set(report.problems.map(\.kind)) == [.stranded, .staleLeaseEntry])
            // Meanwhile: a is dispatched again, then claimed; ghost becomes a real running task.
            try await send(engine, "LPUSH", RedisArgument(engine.keys.ready("default")), "a")
            _ = try await engine.coordinator.tasks.submit([spec("ghost")])
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(30), worker: "w")
            #expect(Set(claimed.map(\.id)) == ["a", "ghost"])
            let repaired = try await engine.coordinator.maintenance.repair(report)
            #expect(repaired.problems.allSatisfy { $0.outcome == "ok" }, "\(repaired.problems)")
            #expect(Set(try await engine.zsetMembers(engine.keys.leases)) == ["a", "ghost"])
            #expect(try await engine.readyList().isEmpty)
            let outcomes = try await engine.coordinator.leases.complete(claimed.map { Completion(lease: $0.lease, result: Array("1".utf8)) })
            #expect(outcomes == [.done, .done])
            #expect(try await engine.coordinator.maintenance.diagnose().isConsistent)
        }
    }
}
