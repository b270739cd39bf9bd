import JobqRedis
import Testing

@testable import JobqCore

/// Service tasks through the scripts (issue 11, "Lifetimes"): a service starts with its run, is
/// not waited for, its dependents (`always`) are released when it starts, and once every other
/// task has ended it is stopped through the cancel path and ends DONE (reason service_stopped)
/// unless it failed on its own; the run's state is decided by its other tasks.
@Suite("service tasks", .enabled(if: redisAvailable))
struct ServiceTaskScriptTests {
    static func task(_ key: String, after: [String] = [], policy: DependencyPolicy = .success, service: Bool = false) -> TaskSpec {
        var spec = TaskSpec(id: key, handler: "h", prerequisites: after.map { Prerequisite($0, policy: policy) }, maxAttempts: 1)
        spec.service = service
        return spec
    }

    static func claim(_ engine: EngineFixture, _ count: Int = 100) async throws -> [ClaimedTask] {
        try await engine.coordinator.leases.claim(queues: ["default"], count: count, lease: .seconds(3600), worker: "w")
    }

    static func complete(_ engine: EngineFixture, _ tasks: [ClaimedTask]) async throws {
        let outcomes = try await engine.coordinator.leases.complete(tasks.map { Completion(lease: $0.lease, result: Array("1".utf8)) })
        #expect(outcomes.allSatisfy { $0 == .done })
    }

    @Test func aServiceRunsBesideTheRunAndIsStoppedWhenTheOthersHaveEnded() async throws {
        try await withEngine { engine in
            let tasks = [
                Self.task("db", service: true), Self.task("a"), Self.task("b"),
                Self.task("c", after: ["a", "b"]), Self.task("client", after: ["db"], policy: .always),
            ]
            _ = try await engine.coordinator.tasks.submit(tasks, run: RunOptions(id: "r", definition: "svc"))
            #expect(try await engine.field("r/db", "service") == "1")
            #expect(try await engine.coordinator.tasks.task("r/db")?.service == true)
            #expect(try await engine.field("r/client", "deps_left") == "1")

            // the service starts with the run; its client is released when it starts
            let first = try await Self.claim(engine)
            #expect(Set(first.map(\.id)) == ["r/db", "r/a", "r/b"])
            #expect(try await engine.field("r/client", "deps_left") == "0")
            let second = try await Self.claim(engine)
            #expect(second.map(\.id) == ["r/client"])

            let db = try #require(first.first { $0.id == "r/db" })
            try await Self.complete(engine, first.filter { $0.id != "r/db" } + second)
            let c = try await Self.claim(engine)
            #expect(c.map(\.id) == ["r/c"])
            #expect(try await engine.field("r/db", "cancel_requested") == nil) // c still runs
            try await Self.complete(engine, c)
            try await engine.coordinator.maintenance.continueUnownedWork()

            // the last other task ended: the service's worker is told through the cancel path
            #expect(try await engine.field("r/db", "cancel_requested") != nil)
            #expect(try await engine.field("r/db", "cancel_reason") == "service_stopped")
            #expect(try await engine.list(engine.keys.control("w")).contains("r/db"))
            var info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(info.state == .running)

            // its handler stops: DONE, reason service_stopped; the run DONE
            #expect(try await engine.coordinator.leases.fail([Failure(lease: db.lease, mode: .cancelled, reason: "cancelled", message: "stopped")]) == [.cancelled])
            #expect(try await engine.state("r/db") == .done)
            #expect(try await engine.field("r/db", "reason") == "service_stopped")
            #expect(try await engine.events(of: "r/db").last == "RUNNING>DONE:service_stopped")
            info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(info.state == .done && info.counts == [.done: 5])
            #expect(try await engine.events(of: "@r").contains("RUNNING>RUNNING:service_stopped"))
        }
    }

    @Test func aServiceThatFailsOnItsOwnDoesNotDecideTheRun() async throws {
        try await withEngine { engine in
            let tasks = [Self.task("svc", service: true), Self.task("a"), Self.task("b", after: ["a"])]
            _ = try await engine.coordinator.tasks.submit(tasks, run: RunOptions(id: "r", definition: "svc", failFast: true))
            let first = try await Self.claim(engine)
            let svc = try #require(first.first { $0.id == "r/svc" })
            #expect(try await engine.coordinator.leases.fail([Failure(lease: svc.lease, mode: .retry(delay: .zero), reason: "error", message: "crashed")]) == [.failed])
            // not a fail-fast stop: the rest goes on
            #expect(try await engine.coordinator.tasks.run("r")?.reason == nil)
            let a = try #require(first.first { $0.id == "r/a" })
            let outcome = try await engine.coordinator.leases.complete([Completion(lease: a.lease, result: Array("1".utf8))])
            let record = try await engine.redis.send("HGETALL", RedisArgument(engine.keys.task("r/a"))).decodeArray().map { try $0.decodeString() }
            #expect(outcome == [.done], "\(record)")
            try await engine.drain()
            #expect(try await engine.state("r/svc") == .failed)
            let info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(info.state == .done && info.counts == [.done: 2, .failed: 1])
        }
    }

    @Test func aFailingRunWithAServiceEndsFailedAndItsPendingServiceNeverRuns() async throws {
        try await withEngine { engine in
            // the service waits for `gate`, which fails: the service is cancelled (dependency)
            // and `other` fails: the run FAILED because of its other tasks
            let tasks = [Self.task("gate"), Self.task("svc", after: ["gate"], policy: .always, service: true), Self.task("other")]
            _ = try await engine.coordinator.tasks.submit(tasks, run: RunOptions(id: "r", definition: "svc"))
            let claimed = try await Self.claim(engine)
            #expect(Set(claimed.map(\.id)) == ["r/gate", "r/other"])
            let other = try #require(claimed.first { $0.id == "r/other" })
            _ = try await engine.coordinator.leases.fail([Failure(lease: other.lease, mode: .final, reason: "error", message: "no")])
            // `gate` still runs, so `svc` waits: the run is not over
            #expect(try await engine.field("r/svc", "cancel_requested") == nil)
            let gate = try #require(claimed.first { $0.id == "r/gate" })
            try await Self.complete(engine, [gate])
            // gate's end releases svc (queued) and ends the last other task: svc is stopped unrun
            try await engine.coordinator.maintenance.continueUnownedWork()
            #expect(try await engine.state("r/svc") == .cancelled)
            #expect(try await engine.field("r/svc", "reason") == "service_stopped")
            #expect(try await Self.claim(engine).isEmpty)
            let info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(info.state == .failed)
        }
    }

    @Test func aRunOfOnlyServicesIsOverAtOnce() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.task("s1", service: true), Self.task("s2", service: true)], run: RunOptions(id: "r", definition: "svc"))
            try await engine.coordinator.maintenance.continueUnownedWork()
            #expect(try await engine.state("r/s1") == .cancelled)
            #expect(try await engine.state("r/s2") == .cancelled)
            #expect(try await engine.field("r/s1", "reason") == "service_stopped")
            #expect(try await Self.claim(engine).isEmpty)
            #expect(try await engine.coordinator.tasks.run("r")?.state == .done)
        }
    }

    @Test func aThousandServicesAreStoppedInBoundedCalls() async throws {
        try await withEngine { engine in
            let tasks = (0..<1000).map { Self.task("s\($0)", service: true) } + [Self.task("work")]
            _ = try await engine.coordinator.tasks.submit(tasks, run: RunOptions(id: "r", definition: "svc"))
            var claimed: [ClaimedTask] = []
            while true {
                let batch = try await Self.claim(engine, 200)
                if batch.isEmpty { break }
                claimed += batch
            }
            #expect(claimed.count == 1001)
            try await Self.complete(engine, claimed.filter { $0.id == "r/work" })
            try await engine.coordinator.maintenance.continueUnownedWork()
            var told = 0
            for id in claimed.map(\.id) where id != "r/work" {
                if try await engine.field(id, "cancel_reason") == "service_stopped" { told += 1 }
            }
            #expect(told == 1000)
            let stops = claimed.filter { $0.id != "r/work" }.map { Failure(lease: $0.lease, mode: .cancelled, reason: "cancelled", message: "stopped") }
            for start in stride(from: 0, to: stops.count, by: 250) {
                _ = try await engine.coordinator.leases.fail(Array(stops[start..<min(start + 250, stops.count)]))
            }
            let info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(info.state == .done && info.counts == [.done: 1001])
        }
    }

    @Test func anEdgeToAServiceOtherThanAlwaysIsRefusedAndNothingIsWritten() async throws {
        try await withEngine { engine in
            let before = try await engine.keySnapshot()
            for policy in [DependencyPolicy.success, .failure] {
                let error = await #expect(throws: JobqError.self) {
                    _ = try await engine.coordinator.tasks.submit([Self.task("svc", service: true), Self.task("x", after: ["svc"], policy: policy)], run: RunOptions(id: "r", definition: "d"))
                }
                #expect(error?.code == .invalidOption && error?.subject == "x")
            }
            // a service outside a run
            let error = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.submit([Self.task("svc", service: true)]) }
            #expect(error?.code == .invalidOption)
            #expect(try await engine.keySnapshot() == before)

            // a task of another submission that waits for a service with `success`: the script refuses it
            _ = try await engine.coordinator.tasks.submit([Self.task("svc", service: true), Self.task("w")], run: RunOptions(id: "r", definition: "d"))
            let after = try await engine.keySnapshot()
            let outside = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.submit([Self.task("late", after: ["r/svc"])]) }
            #expect(outside?.code == .invalidOption && outside?.subject == "late", "\(String(describing: outside))")
            #expect(try await engine.keySnapshot() == after)
            _ = try await engine.coordinator.tasks.submit([Self.task("late", after: ["r/svc"], policy: .always)])
        }
    }
}
