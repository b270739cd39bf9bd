import JobqRedis
import Testing

@testable import JobqCore

/// Recovery order and poison isolation in the scripts (reap.lua, claim.lua, fail.lua): work taken
/// back from a dead or stopping worker is claimed before anything queued since; a worker death is
/// charged only to a task that ran alone; crash suspects run alone, on an idle worker, and a busy
/// worker is picked to drain for one.
@Suite("recovery: recovered first, poison isolation", .enabled(if: redisAvailable))
struct RecoveryScriptTests {
    @Test func aReapedTaskIsClaimedBeforeTheBacklogQueuedSinceIt() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("victim", maxAttempts: 1)])
            _ = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(3), worker: "dead")
            _ = try await engine.coordinator.tasks.submit((0..<2000).map { spec("b\($0)") })
            engine.clock.advance(by: .seconds(4))
            #expect(try await engine.coordinator.maintenance.reap().map(\.id) == ["victim"])
            let next = try await engine.coordinator.leases.claim(queues: ["default"], count: 3, lease: .seconds(30), worker: "w")
            #expect(next.map(\.id) == ["victim", "b0", "b1"])
            #expect(next[0].attempt == 1, "a death beside nothing proven is not charged")
            #expect(try await engine.field("victim", "deaths") == "1")
            #expect(try await engine.field("victim", "suspect") == "1")
        }
    }

    @Test func aHandBackIsClaimedBeforeTheBacklog() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("long")])
            let held = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "stopping")
            _ = try await engine.coordinator.tasks.submit((0..<500).map { spec("b\($0)") })
            #expect(try await engine.coordinator.leases.fail([Failure(lease: held[0].lease, mode: .handBack, reason: "shutdown", message: "")]) == [.handedBack])
            let next = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            #expect(next.map(\.id) == ["long"])
            #expect(try await engine.field("long", "suspect") == nil, "a hand-back is no crash")
        }
    }

    @Test func theTasksBesideAPoisonTaskAreNeverChargedForItsCrashes() async throws {
        try await withEngine { engine in
            // One attempt each: a single charged death would fail them.
            _ = try await engine.coordinator.tasks.submit([spec("poison", maxAttempts: 2), spec("innocent", maxAttempts: 1), spec("later", maxAttempts: 1)])
            // Two workers die under both: each death is refunded and raises the suspicion.
            for worker in ["w1", "w2"] {
                let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(3), worker: worker)
                #expect(Set(claimed.map(\.id)) == ["poison", "innocent"])
                engine.clock.advance(by: .seconds(4))
                #expect(try await engine.coordinator.maintenance.reap().count == 2)
            }
            #expect(Set(try await engine.list(engine.keys.quarantine("default"))) == ["poison", "innocent"])
            #expect(try await engine.field("innocent", "attempts") == "0")

            // A busy worker is picked to drain (nothing claimed); a second busy one claims on.
            let busy = try await engine.coordinator.leases.claimBatch(queues: ["default"], count: 5, lease: .seconds(30), worker: "busy", idle: false)
            #expect(busy.mode == .drain && busy.tasks.isEmpty)
            #expect(try await engine.redis.send("GET", RedisArgument(engine.keys.drainer)).decodeOptionalString()?.hasPrefix("busy ") == true)
            let other = try await engine.coordinator.leases.claimBatch(queues: ["default"], count: 5, lease: .seconds(30), worker: "other", idle: false)
            #expect(other.mode == .normal && other.tasks.map(\.id) == ["later"])
            #expect(try await engine.coordinator.leases.complete([Completion(lease: other.tasks[0].lease, result: Array("null".utf8))]) == [.done])

            // Idle claims take the suspects one at a time, each to run alone.
            var finished: Set<String> = []
            while finished.count < 2 {
                let alone = try await engine.coordinator.leases.claimBatch(queues: ["default"], count: 5, lease: .seconds(3), worker: "busy", idle: true)
                #expect(alone.mode == .alone && alone.tasks.count == 1, "\(alone.mode) \(alone.tasks.map(\.id))")
                guard let task = alone.tasks.first else { break }
                if task.id == "innocent" {
                    #expect(try await engine.coordinator.leases.complete([Completion(lease: task.lease, result: Array("null".utf8))]) == [.done])
                    finished.insert(task.id)
                } else {
                    // The poison kills its worker while it runs alone: charged.
                    engine.clock.advance(by: .seconds(4))
                    _ = try await engine.coordinator.maintenance.reap()
                    if try await engine.state("poison") == .failed { finished.insert("poison") }
                }
            }
            #expect(try await engine.state("innocent") == .done)
            #expect(try await engine.field("innocent", "attempts") == "1")
            #expect(try await engine.state("poison") == .failed)
            #expect(try await engine.field("poison", "reason") == "poison")
            #expect(try await engine.field("poison", "attempts") == "2")
            #expect(try await engine.field("poison", "deaths") == "4")
            #expect(try await engine.redis.send("GET", RedisArgument(engine.keys.drainer)).decodeOptionalString() == nil, "the drainer's idle claim released the pick")
            let info = try #require(try await engine.coordinator.tasks.task("poison"))
            #expect(info.workerDeaths == 4 && info.suspectLevel == 2)
        }
    }

    @Test func recoveredAndQuarantinedWorkCountsAsReadyAndIsListed() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b")])
            _ = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(3), worker: "dead")
            engine.clock.advance(by: .seconds(4))
            _ = try await engine.coordinator.maintenance.reap()
            #expect(try await engine.coordinator.inspector.queues().first?.ready == 2)
            #expect(try await engine.coordinator.inspector.overview().ready == 2)
            #expect(try await engine.coordinator.tasks.taskIDs(in: .pending) == ["a", "b"], "in claim order")
        }
    }

    @Test func aPausedQueuesSuspectNeitherDrainsNorRuns() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("s", queue: "slow"), spec("n")])
            for worker in ["w1", "w2"] {
                _ = try await engine.coordinator.leases.claim(queues: ["slow"], count: 1, lease: .seconds(3), worker: worker)
                engine.clock.advance(by: .seconds(4))
                _ = try await engine.coordinator.maintenance.reap()
            }
            #expect(try await engine.list(engine.keys.quarantine("slow")) == ["s"])
            _ = try await engine.coordinator.maintenance.pause(queue: "slow")
            let busy = try await engine.coordinator.leases.claimBatch(queues: ["slow", "default"], count: 5, lease: .seconds(30), worker: "w", idle: false)
            #expect(busy.mode == .normal && busy.tasks.map(\.id) == ["n"])
            let idle = try await engine.coordinator.leases.claimBatch(queues: ["slow", "default"], count: 5, lease: .seconds(30), worker: "w", idle: true)
            #expect(idle.tasks.isEmpty && idle.mode == .normal)
        }
    }
}

@Suite("recovery: the drainer pick", .enabled(if: redisAvailable))
struct DrainerPickTests {
    /// A drainer whose tasks outlast one lease keeps the pick through its heartbeats, so other
    /// busy workers are not picked one after another; once it stops heartbeating, the pick
    /// passes to another busy worker.
    @Test func theDrainerKeepsItsPickWhileItHeartbeats() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("long"), spec("s", maxAttempts: 3), spec("n1"), spec("n2")])
            let held = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(60), worker: "drainer")
            #expect(held.map(\.id) == ["long"])
            for worker in ["dead1", "dead2"] {
                #expect(try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(3), worker: worker).map(\.id) == ["s"])
                engine.clock.advance(by: .seconds(4))
                #expect(try await engine.coordinator.maintenance.reap().map(\.id) == ["s"])
            }
            #expect(try await engine.coordinator.leases.claimBatch(queues: ["default"], count: 5, lease: .seconds(3), worker: "drainer", idle: false).mode == .drain)
            for _ in 0..<3 {
                engine.clock.advance(by: .seconds(2))
                #expect(try await engine.coordinator.leases.heartbeat(held.map(\.lease), lease: .seconds(3), worker: "drainer") == [.extended])
            }
            // Six seconds on (two leases), the pick is still its own: another busy worker claims on.
            let other = try await engine.coordinator.leases.claimBatch(queues: ["default"], count: 1, lease: .seconds(3), worker: "other", idle: false)
            #expect(other.mode == .normal && other.tasks.map(\.id) == ["n1"])
            // It stops heartbeating: one lease later the next busy claim is picked instead.
            engine.clock.advance(by: .seconds(4))
            let next = try await engine.coordinator.leases.claimBatch(queues: ["default"], count: 1, lease: .seconds(3), worker: "other", idle: false)
            #expect(next.mode == .drain)
        }
    }
}
