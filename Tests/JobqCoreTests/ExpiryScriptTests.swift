import Foundation
import JobqRedis
import Testing

@testable import JobqCore

/// Task expiry (`TaskSpec.expires`) through the scripts: a task not started by its expiry ends
/// CANCELLED with reason `expired` and never runs — found by a claim or by the maintenance pass,
/// wherever it waits — and its dependents settle as after a cancel; a task that started never
/// expires.
@Suite("expiry: claim, promote, runs, retry", .enabled(if: redisAvailable))
struct ExpiryScriptTests {
    static func expiring(_ id: String, after prerequisites: [String] = [], policy: DependencyPolicy = .success,
                         in duration: Duration, delay: Duration = .zero) -> TaskSpec {
        var task = spec(id, after: prerequisites, policy: policy)
        task.expires = .after(duration)
        task.delay = delay
        return task
    }

    static func claim(_ engine: EngineFixture, count: Int = 10) async throws -> [ClaimedTask] {
        try await engine.coordinator.leases.claim(queues: ["default"], count: count, lease: .seconds(300), worker: "w")
    }

    @Test func aQueuedTaskPastItsExpiryIsNotClaimedAndItsDependentsSettleAsAfterACancel() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([
                Self.expiring("a", in: .seconds(60)), spec("needs", after: ["a"]), spec("cleanup", after: ["a"], policy: .always), spec("other"),
            ])
            #expect(try await engine.field("a", "expires_at") == String(engine.clock.now + 60_000))
            #expect(try await engine.zsetMembers(engine.keys.expiring) == ["a"])
            engine.clock.advance(by: .seconds(60))
            // due at its expiry exactly: the claim ends it and goes on with what is queued behind
            #expect(try await Self.claim(engine).map(\.id) == ["other"])
            #expect(try await engine.state("a") == .cancelled)
            #expect(try await engine.field("a", "reason") == "expired")
            #expect(try await engine.events(of: "a") == ["->PENDING:", "PENDING>CANCELLED:expired"])
            #expect(try await engine.state("needs") == .cancelled)
            #expect(try await engine.field("needs", "reason") == "dependency_failed")
            #expect(try await engine.field("needs", "cause") == "a")
            #expect(try await engine.readyList() == ["cleanup"], "its `always` dependent is released")
            #expect(try await engine.zsetMembers(engine.keys.expiring).isEmpty)
            #expect(try await engine.zsetMembers(engine.keys.ended(.cancelled)).sorted() == ["a", "needs"])
            let stats = try await engine.coordinator.inspector.stats()
            #expect(stats["expired"] == 1 && stats["cancelled"] == 2)
            #expect(try await engine.coordinator.tasks.task("a")?.expiresAt == engine.clock.now)
        }
    }

    @Test func aTaskWaitingForAPrerequisiteExpiresThroughTheMaintenancePass() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("slow"), Self.expiring("late", after: ["slow"], in: .seconds(30))])
            var promoted = try await engine.coordinator.maintenance.promote()
            #expect(promoted.expired == 0 && promoted.nextDue == engine.clock.now + 30_000, "the expiry is the next thing due")
            engine.clock.advance(by: .seconds(31))
            promoted = try await engine.coordinator.maintenance.promote()
            #expect(promoted.expired == 1 && promoted.nextDue == nil)
            #expect(try await engine.state("late") == .cancelled)
            #expect(try await engine.field("late", "reason") == "expired")
            #expect(try await engine.zsetMembers(engine.keys.waiting).isEmpty)
            #expect(try await engine.zsetMembers(engine.keys.expiring).isEmpty)
            // its prerequisite still runs; ending it leaves the expired task as it is
            #expect(try await engine.drain() == ["slow"])
            #expect(try await engine.state("late") == .cancelled)
        }
    }

    @Test func aDelayedTaskExpiresBeforeItsDelayIsOver() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.expiring("d", in: .seconds(30), delay: .seconds(60))])
            #expect(try await engine.zsetMembers(engine.keys.delayed) == ["d"])
            engine.clock.advance(by: .seconds(30))
            let promoted = try await engine.coordinator.maintenance.promote()
            #expect(promoted.expired == 1 && promoted.promoted == 0)
            #expect(try await engine.state("d") == .cancelled)
            #expect(try await engine.zsetMembers(engine.keys.delayed).isEmpty)
            engine.clock.advance(by: .seconds(60))
            #expect(try await engine.coordinator.maintenance.promote().promoted == 0)
            #expect(try await Self.claim(engine).isEmpty)
        }
    }

    @Test func aTaskClaimedBeforeItsExpiryRunsAndItsRetriesDoNotExpire() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.expiring("t", in: .seconds(10))])
            let first = try await Self.claim(engine)
            #expect(first.map(\.id) == ["t"])
            #expect(try await engine.field("t", "expires_at") == nil, "it started: it never expires now")
            #expect(try await engine.zsetMembers(engine.keys.expiring).isEmpty)
            _ = try await engine.coordinator.leases.fail([Failure(lease: first[0].lease, mode: .retry(delay: .seconds(20)), reason: "error", message: "try again")])
            engine.clock.advance(by: .seconds(20))
            let promoted = try await engine.coordinator.maintenance.promote()
            #expect(promoted.promoted == 1 && promoted.expired == 0)
            let second = try await Self.claim(engine)
            #expect(second.map(\.id) == ["t"])
            _ = try await engine.coordinator.leases.complete([Completion(lease: second[0].lease, result: Array("1".utf8))])
            #expect(try await engine.state("t") == .done)
        }
    }

    @Test func aRetryOfAnExpiredTaskReopensItWithoutExpiry() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.expiring("x", in: .seconds(5)), spec("y", after: ["x"])])
            engine.clock.advance(by: .seconds(5))
            #expect(try await engine.coordinator.maintenance.promote().expired == 1)
            #expect(try await engine.state("y") == .cancelled)
            _ = try await engine.coordinator.tasks.retry(task: "x")
            #expect(try await engine.state("x") == .pending)
            #expect(try await engine.field("x", "expires_at") == nil)
            #expect(try await engine.zsetMembers(engine.keys.expiring).isEmpty)
            engine.clock.advance(by: .seconds(60))
            #expect(try await engine.drain() == ["x", "y"])
        }
    }

    @Test func anExpiredTaskOfARunCountsAsCancelledAndAParkedTaskExpiresToo() async throws {
        try await withEngine { engine in
            let tasks = [spec("first"), Self.expiring("parked", in: .seconds(10)), spec("after", after: ["parked"])]
            _ = try await engine.coordinator.tasks.submit(tasks, run: RunOptions(id: "r", definition: "d", window: 1))
            let claimed = try await Self.claim(engine)
            #expect(claimed.map(\.id) == ["r/first"])
            #expect(try await engine.list(engine.keys.runParked("r")) == ["r/parked"])
            engine.clock.advance(by: .seconds(10))
            #expect(try await engine.coordinator.maintenance.promote().expired == 1)
            #expect(try await engine.field("r/parked", "reason") == "expired")
            #expect(try await engine.state("r/after") == .cancelled)
            var info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(info.counts == [.running: 1, .cancelled: 2] && info.state == .running)
            // the freed slot finds the parked id ended: dropped, nothing runs again
            _ = try await engine.coordinator.leases.complete([Completion(lease: claimed[0].lease, result: Array("1".utf8))])
            #expect(try await Self.claim(engine).isEmpty)
            info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(info.counts == [.done: 1, .cancelled: 2] && info.state == .failed)
        }
    }

    @Test func badExpiriesAreRefusedAndWriteNothing() async throws {
        try await withEngine { engine in
            let before = try await engine.keySnapshot()
            let rows: [(String, TaskExpiry)] = [
                ("zero", .after(.zero)),
                ("negative", .after(.seconds(-5))),
                ("under a millisecond", .after(.microseconds(500))),
                ("beyond 366 days", .after(.seconds(400 * 24 * 3600))),
                ("absolute in the past", .at(Date(timeIntervalSinceNow: -60))),
                ("absolute beyond 366 days", .at(Date(timeIntervalSinceNow: 400 * 24 * 3600))),
            ]
            for (what, expiry) in rows {
                var task = spec("t")
                task.expires = expiry
                let error = await #expect(throws: JobqError.self, "\(what)") { _ = try await engine.coordinator.tasks.submit([spec("ok"), task]) }
                #expect(error?.code == .invalidOption && error?.subject == "t", "\(what): \(String(describing: error))")
            }
            // In the future on this machine's clock but not on Redis's (the script's own check):
            // the test clock is hand-driven, so a time before it reaches the script directly.
            for argument: TaskExpiry in [.at(Date(timeIntervalSince1970: Double(engine.clock.now) / 1000)), .after(.zero)] {
                var task = spec("t")
                task.expires = argument
                let call = SubmitCall(items: [SubmitCall.Item(id: "ok", spec: spec("ok")), SubmitCall.Item(id: "t", spec: task)],
                                      fingerprint: "", idempotencyWindow: .zero)
                let error = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.runner.run(call) }
                #expect(error?.code == .invalidOption && error?.subject == "t" && error?.message.contains("expiry") == true)
            }
            #expect(try await engine.keySnapshot() == before)
        }
    }

    @Test func theExpiryIsPartOfTheIdempotencyFingerprint() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.expiring("a", in: .seconds(60))], idempotencyKey: "k")
            let again = try await engine.coordinator.tasks.submit([Self.expiring("a", in: .seconds(60))], idempotencyKey: "k")
            #expect(!again.created)
            let other = await #expect(throws: JobqError.self) {
                _ = try await engine.coordinator.tasks.submit([Self.expiring("a", in: .seconds(61))], idempotencyKey: "k")
            }
            #expect(other?.code == .idempotencyConflict)
        }
    }
}
