import JobqRedis
import Testing

@testable import JobqCore

/// A declared wait (`wait_for`): the signal counts as one more unresolved prerequisite; its
/// timeout does what `on_timeout` says. Against a real redis-server.
@Suite("declared waits", .enabled(if: redisAvailable))
struct DeclaredWaitScriptTests {
    private func waiting(_ id: String, after: [String] = [], timeout: Duration? = nil, onTimeout: DeclaredWait.OnTimeout = .fail) -> TaskSpec {
        var task = spec(id, after: after)
        task.waitFor = DeclaredWait("approve", timeout: timeout, onTimeout: onTimeout)
        return task
    }

    private func claimed(_ engine: EngineFixture) async throws -> [String] {
        try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w").map(\.id)
    }

    private func signal(_ engine: EngineFixture, _ id: String) async throws -> SignalDelivery {
        try await engine.coordinator.tasks.signal(task: id, name: "approve", payload: Array("true".utf8))
    }

    @Test func theSignalGatesDispatchLikeAPrerequisite() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([waiting("a")])
            #expect(try await engine.field("a", "deps_left") == "1")
            #expect(try await claimed(engine).isEmpty)
            #expect(try await signal(engine, "a") == .resumed)
            #expect(try await engine.field("a", "deps_left") == "0")
            let task = try #require(try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w").first)
            #expect(task.id == "a")
            #expect(task.signals.map { String(decoding: $0, as: UTF8.self) } == #"{"approve":true}"#)
        }
    }

    @Test func itRunsOnlyOnceBothThePrerequisiteAndTheSignalAreThereInEitherOrder() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("p"), waiting("a", after: ["p"]), spec("q"), waiting("b", after: ["q"])])
            #expect(try await engine.field("a", "deps_left") == "2")
            // a: the signal first, then the prerequisite
            #expect(try await signal(engine, "a") == .resumed)
            #expect(try await engine.field("a", "deps_left") == "1")
            #expect(try await engine.redis.send("ZSCORE", RedisArgument(engine.keys.waiting), "a").decodeOptionalString() != nil)
            #expect(Set(try await claimed(engine)) == ["p", "q"])
            _ = try await engine.coordinator.leases.complete([Completion(lease: TaskLease(id: "p", token: try #require(Int(try await engine.field("p", "token") ?? ""))), result: Array("1".utf8))])
            // b: the prerequisite first, then the signal
            _ = try await engine.coordinator.leases.complete([Completion(lease: TaskLease(id: "q", token: try #require(Int(try await engine.field("q", "token") ?? ""))), result: Array("1".utf8))])
            #expect(try await claimed(engine) == ["a"])
            #expect(try await engine.field("b", "deps_left") == "1")
            #expect(try await signal(engine, "b") == .resumed)
            #expect(try await claimed(engine) == ["b"])
        }
    }

    @Test func eachTimeoutActionDoesWhatItSays() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([
                waiting("f", timeout: .seconds(10)), spec("fd", after: ["f"]),
                waiting("s", timeout: .seconds(10), onTimeout: .skip), spec("sd", after: ["s"]),
                waiting("r", timeout: .seconds(10), onTimeout: .run),
            ])
            engine.clock.advance(by: .seconds(10))
            #expect(try await engine.coordinator.maintenance.promote().signalTimeouts == 3)
            #expect(try await engine.state("f") == .failed)
            #expect(try await engine.field("f", "reason") == "signal_timeout")
            #expect(try await engine.field("f", "wait_declared") == "") // a retried task's later waits are its handler's
            #expect(try await engine.state("fd") == .cancelled)
            #expect(try await engine.state("s") == .skipped)
            #expect(try await engine.events(of: "s").last == "PENDING>SKIPPED:signal_timeout")
            #expect(try await engine.state("r") == .pending)
            #expect(try await engine.events(of: "r").last == "PENDING>PENDING:signal_timeout")
            #expect(Set(try await claimed(engine)) == ["r", "sd"])
        }
    }

    @Test func badWaitForIsRefusedBeforeAnythingIsWritten() async throws {
        try await withEngine { engine in
            var bad = spec("a")
            bad.waitFor = DeclaredWait("not a name")
            let before = try await engine.keySnapshot()
            await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.submit([bad]) }
            bad.waitFor = DeclaredWait("ok", timeout: .zero)
            await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.submit([bad]) }
            #expect(try await engine.keySnapshot() == before)
        }
    }

    @Test func doctorCountsAnUnmetDeclaredWait() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([waiting("a"), spec("h")])
            // and a handler's wait, in no queue
            let task = try #require(try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w").first)
            let wait = Failure(lease: task.lease, mode: .wait(name: "go", timeout: nil, question: nil), reason: "waiting", message: "")
            #expect(try await engine.coordinator.leases.fail([wait]) == [.waiting])
            let report = try await engine.coordinator.maintenance.diagnose()
            #expect(report.problems.isEmpty, "\(report)")
        }
    }
}

/// A sub-workflow request carries its tasks' declared waits to the child run.
@Suite("declared waits in sub-workflow requests")
struct DeclaredWaitChildRequestTests {
    @Test func aChildTasksWaitForSurvivesTheRequest() throws {
        var task = TaskSpec(id: "a", handler: "h")
        task.waitFor = DeclaredWait("approve", timeout: .seconds(60), onTimeout: .skip)
        let request = try ChildRunRequest(definition: "d", tasks: [task, TaskSpec(id: "b", handler: "h")])
        let decoded = try ChildRunRequest.decode(try request.encoded())
        let specs = try decoded.submission(id: "r").tasks
        #expect(specs.map(\.waitFor) == [DeclaredWait("approve", timeout: .seconds(60), onTimeout: .skip), nil])
    }
}
