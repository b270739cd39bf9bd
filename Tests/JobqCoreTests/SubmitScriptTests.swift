import JobqRedis
import Testing

@testable import JobqCore

@Suite("submit.lua", .enabled(if: redisAvailable))
struct SubmitScriptTests {
    @Test func singleTaskIsQueuedAndIndexed() async throws {
        try await withEngine { engine in
            let result = try await engine.coordinator.tasks.submit([spec("a", payload: #"{"x":1}"#)])
            #expect(result.created)
            #expect(result.tasks == [SubmittedTask(id: "a", state: .pending)])
            #expect(try await engine.readyList() == ["a"])
            #expect(try await engine.zsetMembers(engine.keys.waiting).isEmpty)
            #expect(try await engine.field("a", "payload") == #"{"x":1}"#)
            // Nothing to wait for: no deps_left field at all (absent means 0), one field less to write.
            #expect(try await engine.field("a", "deps_left") == nil)
            #expect(try await engine.coordinator.tasks.task("a")?.unresolvedPrerequisites == 0)
            #expect(try await engine.field("a", "created") == String(engine.clock.now))
            let events = try await engine.events(of: "a")
            #expect(events == ["->PENDING:"])
            let wake = try await engine.redis.send("LLEN", RedisArgument(engine.keys.wake("default"))).decodeInt()
            #expect(wake == 1)
        }
    }

    @Test func dependentWaitsUntilPrerequisiteIsDone() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b", after: ["a"])])
            #expect(try await engine.readyList() == ["a"])
            #expect(try await engine.field("b", "deps_left") == "1")
            #expect(try await engine.zsetMembers(engine.keys.waiting) == ["b"])
            let order = try await engine.drain()
            #expect(order == ["a", "b"])
            #expect(try await engine.zsetMembers(engine.keys.waiting).isEmpty)
            #expect(try await engine.state("b") == .done)
        }
    }

    @Test func duplicateIDIsRejectedAndNothingWritten() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let before = try await engine.keySnapshot()
            let error = await #expect(throws: JobqError.self) {
                _ = try await engine.coordinator.tasks.submit([spec("b"), spec("a")])
            }
            #expect(error?.code == .duplicateID)
            #expect(error?.subject == "a")
            #expect(try await engine.keySnapshot() == before)
        }
    }

    @Test func unknownDependencyIsRejectedAndNothingWritten() async throws {
        try await withEngine { engine in
            let before = try await engine.keySnapshot()
            let error = await #expect(throws: JobqError.self) {
                _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b", after: ["a", "ghost"])])
            }
            #expect(error?.code == .unknownDependency)
            #expect(error?.message.contains("ghost") == true)
            #expect(try await engine.keySnapshot() == before)
        }
    }

    @Test(arguments: [1, 2, 1000])
    func cyclesAreRejectedBySwiftAndByTheScript(length: Int) async throws {
        try await withEngine { engine in
            let ids = (0..<length).map { "n\($0)" }
            let specs = ids.enumerated().map { index, id in spec(id, after: [ids[(index + 1) % length]]) }
            let error = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.submit(specs) }
            #expect(error?.code == .cycle)
            // The script checks too, for clients that skip the Swift check.
            // idempotency key, fingerprint, workflow, idempotency window, definition, 0 run options, n
            var arguments: [RedisArgument] = ["", "", "", 0, "", 0, RedisArgument(length)]
            for (index, id) in ids.enumerated() {
                arguments += [RedisArgument(id), "noop", "default", "{}", 1, 1000, "{}", 0, 1000, "", "", "", "", "", "", "", "", "", "", "", 1,
                              RedisArgument(ids[(index + 1) % length]), "success"]
            }
            let reply = try await engine.coordinator.runner.evaluate(Scripts.submit, arguments).array ?? []
            #expect(reply.first?.int == ScriptCode.cycle.rawValue)
            #expect(reply.count == length + 1)
            #expect(try await engine.keySnapshot().isEmpty)
        }
    }

    @Test func lateDependentOfAFailedTaskIsCreatedCancelled() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: 1)])
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .retry(delay: .zero), reason: "error", message: "boom")])
            let result = try await engine.coordinator.tasks.submit([spec("b", after: ["a"]), spec("c", after: ["b"]), spec("d", after: ["a"], policy: .always)])
            #expect(result.tasks.map(\.state) == [.cancelled, .cancelled, .pending])
            #expect(try await engine.field("b", "reason") == "dependency_failed")
            #expect(try await engine.field("c", "cause") == "b")
            #expect(try await engine.readyList() == ["d"])
        }
    }

    @Test func idempotencyKeyReturnsTheFirstSubmission() async throws {
        try await withEngine { engine in
            let first = try await engine.coordinator.tasks.submit([TaskSpec(handler: "noop", payload: Array("1".utf8))], idempotencyKey: "k1")
            let second = try await engine.coordinator.tasks.submit([TaskSpec(handler: "noop", payload: Array("1".utf8))], idempotencyKey: "k1")
            #expect(first.created && !second.created)
            #expect(first.tasks.map(\.id) == second.tasks.map(\.id))
            #expect(try await engine.readyList().count == 1)
            let error = await #expect(throws: JobqError.self) {
                _ = try await engine.coordinator.tasks.submit([TaskSpec(handler: "noop", payload: Array("2".utf8))], idempotencyKey: "k1")
            }
            #expect(error?.code == .idempotencyConflict)
        }
    }

    @Test func delayedTaskWaitsForItsTime() async throws {
        try await withEngine { engine in
            var delayed = spec("a")
            delayed.delay = .seconds(60)
            _ = try await engine.coordinator.tasks.submit([delayed])
            #expect(try await engine.readyList().isEmpty)
            #expect(try await engine.coordinator.maintenance.promote().promoted == 0)
            engine.clock.advance(by: .seconds(61))
            let promoted = try await engine.coordinator.maintenance.promote()
            #expect(promoted.promoted == 1)
            #expect(try await engine.readyList() == ["a"])
        }
    }
}
