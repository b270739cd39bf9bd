import JobqRedis
import Testing

@testable import JobqCore

@Suite("cancel / retry", .enabled(if: redisAvailable))
struct ControlScriptTests {
    @Test func cancelPendingCascadesToSuccessDependentsOnly() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([
                spec("a"), spec("b", after: ["a"]), spec("c", after: ["b"]), spec("cleanup", after: ["b"], policy: .always),
            ])
            #expect(try await engine.coordinator.tasks.cancel(task: "a") == .cancelled)
            #expect(try await engine.state("a") == .cancelled)
            #expect(try await engine.state("b") == .cancelled)
            #expect(try await engine.state("c") == .cancelled)
            #expect(try await engine.field("c", "cause") == "b")
            #expect(try await engine.state("cleanup") == .pending)
            // The cancelled id stays in the ready list until a claim drops it; cleanup is ready.
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(5), worker: "w")
            #expect(claimed.map(\.id) == ["cleanup"])
        }
    }

    @Test func cancelRefusals() async throws {
        try await withEngine { engine in
            let missing = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.cancel(task: "ghost") }
            #expect(missing?.code == .notFound)
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            #expect(try await engine.coordinator.tasks.cancel(task: "a") == .cancelled)
            let again = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.cancel(task: "a") }
            #expect(again?.code == .invalidState)
            let invalid = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.cancel(task: "bad id") }
            #expect(invalid?.code == .invalidName)
        }
    }

    @Test func cancelRunningGoesThroughTheWorker() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b", after: ["a"])])
            let task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(10), worker: "w")[0]
            #expect(try await engine.coordinator.tasks.cancel(task: "a") == .requested)
            #expect(try await engine.coordinator.tasks.cancel(task: "a") == .alreadyRequested)
            #expect(try await engine.state("a") == .running)
            #expect(try await engine.coordinator.leases.heartbeat([task.lease], lease: .seconds(10), worker: "w") == [.cancelRequested])
            #expect(try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .cancelled, reason: "cancelled", message: "stopped")]) == [.cancelled])
            #expect(try await engine.state("a") == .cancelled)
            #expect(try await engine.state("b") == .cancelled)
        }
    }

    @Test func cancelRequestedTaskWhoseWorkerDiedEndsCancelled() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            _ = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(3), worker: "w")
            _ = try await engine.coordinator.tasks.cancel(task: "a")
            engine.clock.advance(by: .seconds(4))
            #expect(try await engine.coordinator.maintenance.reap().map(\.state) == [.cancelled])
        }
    }

    @Test func cancelWorkflow() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b"), spec("c", after: ["a", "b"])], workflow: "wf1")
            _ = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(3), worker: "w")
            let outcome = try await engine.coordinator.tasks.cancel(workflow: "wf1")
            #expect(outcome.cancelled == 2 && outcome.requested == 1)
            #expect(try await engine.coordinator.tasks.summary(workflow: "wf1")?.description == "1R + 2C")
            let missing = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.cancel(workflow: "nope") }
            #expect(missing?.code == .notFound)
        }
    }

    @Test func cancelRacingCompleteEndsInExactlyOneTerminalState() async throws {
        try await withEngine { engine in
            for round in 0..<20 {
                let id = "race\(round)"
                _ = try await engine.coordinator.tasks.submit([spec(id, maxAttempts: 1)])
                let task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(10), worker: "w")[0]
                async let cancel = { () async -> Result<CancelOutcome, JobqError> in
                    do throws(JobqError) { return .success(try await engine.coordinator.tasks.cancel(task: id)) } catch { return .failure(error) }
                }()
                async let complete = engine.coordinator.leases.complete([Completion(lease: task.lease, result: [])])
                let (cancelOutcome, completeOutcome) = try await (cancel, complete)
                // Whichever lands first, the completion of the current lease wins; a cancel that
                // comes after it is refused because the task has ended.
                #expect(completeOutcome == [.done])
                switch cancelOutcome {
                case .success(let outcome): #expect(outcome == .requested)
                case .failure(let error): #expect(error.code == .invalidState)
                }
                #expect(try await engine.state(id) == .done)
                let terminalEvents = try await engine.events(of: id).filter { $0.contains(">DONE") || $0.contains(">CANCELLED") || $0.contains(">FAILED") }
                #expect(terminalEvents.count == 1)
            }
        }
    }

    @Test func retryReopensTheTaskAndTheDependentsItTookDown() async throws {
        try await withEngine { engine in
            // diamond a -> (b, c) -> d, plus e that also needs x (still failed afterwards)
            _ = try await engine.coordinator.tasks.submit([
                spec("a", maxAttempts: 1), spec("x", maxAttempts: 1), spec("b", after: ["a"]), spec("c", after: ["a"]),
                spec("d", after: ["b", "c"]), spec("e", after: ["b", "x"]),
            ])
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(10), worker: "w")
            _ = try await engine.coordinator.leases.fail(claimed.map { Failure(lease: $0.lease, mode: .final, reason: "error", message: "boom") })
            for id in ["b", "c", "d", "e"] { #expect(try await engine.state(id) == .cancelled) }
            let reopened = try await engine.coordinator.tasks.retry(task: "a")
            #expect(reopened.first == "a")
            #expect(Set(reopened) == ["a", "b", "c", "d"])
            #expect(try await engine.state("e") == .cancelled)
            #expect(try await engine.field("a", "attempts") == "0")
            #expect(try await engine.field("a", "error") == nil)
            #expect(try await engine.zsetMembers(engine.keys.ended(.failed)) == ["x"])
            let order = try await engine.drain()
            #expect(order.first == "a" && order.last == "d" && Set(order) == ["a", "b", "c", "d"])
            let refused = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.retry(task: "e") }
            #expect(refused?.code == .prerequisiteFailed)
            let done = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.retry(task: "a") }
            #expect(done?.code == .invalidState)
        }
    }

    @Test func retryRestoresAlwaysEdgesWithoutDoubleRelease() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: 1), spec("gate"), spec("z", after: ["a"], policy: .always)])
            try await engine.redis.send("HSET", RedisArgument(engine.keys.dependents("gate")), "z", "success").throwIfError()
            try await engine.redis.send("HSET", RedisArgument(engine.keys.task("z")), "deps_left", 2).throwIfError()
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(10), worker: "w")
            #expect(claimed.map(\.id) == ["a"])
            _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .final, reason: "error", message: "x")])
            #expect(try await engine.field("z", "deps_left") == "1")
            _ = try await engine.coordinator.tasks.retry(task: "a")
            #expect(try await engine.field("z", "deps_left") == "2")
            try await engine.drain()
            #expect(try await engine.state("z") == .done)
        }
    }

    /// `jobq cancel ID --message M` on a running task: M is what the record keeps, whether the
    /// worker reports back (with its own wording) or its lease runs out.
    @Test func aRunningTaskKeepsTheCancelMessage() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b")])
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(5), worker: "w")
            #expect(try await engine.coordinator.tasks.cancel(task: "a", message: "wrong input file") == .requested)
            #expect(try await engine.coordinator.tasks.cancel(task: "b", message: "operator said stop") == .requested)
            let a = try #require(claimed.first { $0.id == "a" })
            #expect(try await engine.coordinator.leases.fail([Failure(lease: a.lease, mode: .cancelled, reason: "cancelled", message: "handler cancelled")]) == [.cancelled])
            #expect(try await engine.field("a", "error") == "wrong input file")
            engine.clock.advance(by: .seconds(6))
            _ = try await engine.coordinator.maintenance.reap()
            #expect(try await engine.state("b") == .cancelled)
            #expect(try await engine.field("b", "error") == "operator said stop")
        }
    }
}
