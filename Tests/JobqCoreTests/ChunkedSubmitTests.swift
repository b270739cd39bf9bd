import JobqRedis
import Testing

@testable import JobqCore

/// A run larger than ``Limits/tasksPerSubmitCall`` goes in several submit.lua calls (the first
/// creates it marked `building`, the last seals it): it runs and ends as one call would make it,
/// it cannot end while open, refusals still come before anything is written, and a submitter
/// that stops mid-way leaves a run that the maintenance pass gives up (reason submit_abandoned).
@Suite("chunked run submission", .enabled(if: redisAvailable))
struct ChunkedSubmitTests {
    static func task(_ key: String, after: [String] = [], unique: String? = nil) -> TaskSpec {
        var spec = TaskSpec(id: key, handler: "h", prerequisites: after.map { Prerequisite($0) }, maxAttempts: 1)
        if let unique { spec.uniqueness = Uniqueness(key: unique, mode: .untilFinished) }
        return spec
    }

    static func limits(chunk: Int) -> Limits {
        var limits = Limits()
        limits.tasksPerSubmitCall = chunk
        return limits
    }

    /// One chunk call made by hand (what a submitter that dies between two calls has sent).
    static func chunk(_ engine: EngineFixture, run: String, _ part: SubmitChunk, _ tasks: [TaskSpec]) async throws -> SubmitResult {
        let items = tasks.map { spec in
            var spec = spec
            spec.id = run + "/" + (spec.id ?? "")
            spec.prerequisites = spec.prerequisites.map { Prerequisite(run + "/" + $0.id, policy: $0.policy) }
            return SubmitCall.Item(id: spec.id ?? "", spec: spec)
        }
        return try await engine.coordinator.runner.run(SubmitCall(
            items: items, workflow: run, run: RunOptions(id: run, definition: "chunked"), fingerprint: "",
            idempotencyWindow: .zero, chunk: part
        ))
    }

    @Test func aTwentyThousandTaskRunOfChainsAcrossChunksRunsAndEndsDone() async throws {
        try await withEngine { engine in
            // 100 chains of 200, declared step by step across the chains: every chain crosses
            // every chunk boundary (100 tasks a call: 200 calls)
            var tasks: [TaskSpec] = []
            for step in 0..<200 {
                for chain in 0..<100 {
                    tasks.append(Self.task("c\(chain)-\(step)", after: step == 0 ? [] : ["c\(chain)-\(step - 1)"]))
                }
            }
            let submitted = try await engine.coordinator.tasks.submit(tasks, run: RunOptions(id: "big", definition: "chains"))
            #expect(submitted.created && submitted.run == "big")
            #expect(submitted.tasks.map(\.id) == tasks.map { "big/" + ($0.id ?? "") }) // the caller's order
            #expect(submitted.tasks.filter { $0.state == .pending }.count == 20_000)
            var info = try #require(try await engine.coordinator.tasks.run("big"))
            #expect(info.total == 20_000 && !info.submitting && info.state == .pending)
            #expect(try await engine.zsetMembers(engine.keys.building).isEmpty)

            // each task's result is its own id; the order respects every edge
            let order = try await engine.drain(batch: 500) { Array("\"\($0.id)\"".utf8) }
            #expect(order.count == 20_000)
            var position: [String: Int] = [:]
            for (i, id) in order.enumerated() { position[id] = i }
            for chain in 0..<100 {
                for step in 1..<200 {
                    #expect(position["big/c\(chain)-\(step - 1)"]! < position["big/c\(chain)-\(step)"]!)
                }
            }
            #expect(try await engine.field("big/c7-199", "result") == "\"big/c7-199\"")
            info = try #require(try await engine.coordinator.tasks.run("big"))
            #expect(info.state == .done && info.counts == [.done: 20_000])
        }
    }

    @Test func anOpenRunCannotEndAndTheLastChunkSealsIt() async throws {
        try await withEngine { engine in
            _ = try await Self.chunk(engine, run: "r", .first, [Self.task("a"), Self.task("b", after: ["a"])])
            var info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(info.submitting)
            #expect(try await engine.zsetMembers(engine.keys.building) == ["r"])
            // every task it has so far ends: it is not over (more are coming)
            try await engine.drain()
            info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(info.state == .running && info.submitting && info.counts == [.done: 2])
            #expect(try await engine.coordinator.tasks.runs().runs.first?.submitting == true)

            _ = try await Self.chunk(engine, run: "r", .more, [Self.task("c", after: ["b"])])
            let last = try await Self.chunk(engine, run: "r", .last, [Self.task("d", after: ["c", "a"])])
            #expect(last.tasks.map(\.id) == ["r/d"] && last.tasks.first?.state == .pending)
            info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(!info.submitting && info.state == .running)
            #expect(try await engine.zsetMembers(engine.keys.building).isEmpty)
            #expect(try await engine.drain() == ["r/c", "r/d"])
            info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(info.state == .done && info.total == 4)

            // sealed: no more chunks
            let error = await #expect(throws: JobqError.self) { _ = try await Self.chunk(engine, run: "r", .more, [Self.task("e")]) }
            #expect(error?.code == .invalidState)
        }
    }

    @Test func aSealWithNothingOpenEndsTheRunThen() async throws {
        try await withEngine { engine in
            _ = try await Self.chunk(engine, run: "r", .first, [Self.task("a")])
            try await engine.drain()
            _ = try await Self.chunk(engine, run: "r", .last, [])
            #expect(try await engine.coordinator.tasks.run("r")?.state == .done)
        }
    }

    @Test func aSubmitterThatStopsMidWayLeavesARunTheMaintenancePassGivesUp() async throws {
        try await withEngine { engine in
            _ = try await Self.chunk(engine, run: "r", .first, [Self.task("a"), Self.task("b", after: ["a"])])
            _ = try await Self.chunk(engine, run: "r", .more, [Self.task("c", after: ["b"])])
            // (the submitter dies here: no last chunk)
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(3600), worker: "w")
            #expect(claimed.map(\.id) == ["r/a"])
            engine.clock.advance(by: .milliseconds(Int64(Limits.submitAbandonedMilliseconds) - 1))
            _ = try await engine.coordinator.maintenance.promote()
            #expect(try await engine.coordinator.tasks.run("r")?.submitting == true) // not yet

            engine.clock.advance(by: .milliseconds(2))
            let promoted = try await engine.coordinator.maintenance.promote()
            #expect(promoted.runsStopped == 1)
            try await engine.coordinator.maintenance.continueUnownedWork()
            #expect(try await engine.state("r/b") == .cancelled)
            #expect(try await engine.field("r/b", "reason") == "submit_abandoned")
            #expect(try await engine.field("r/a", "cancel_requested") != nil)
            var info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(!info.submitting && info.state == .running) // its running task is told, not killed

            // a late chunk of the dead submitter is refused
            let error = await #expect(throws: JobqError.self) { _ = try await Self.chunk(engine, run: "r", .last, [Self.task("d")]) }
            #expect(error?.code == .invalidState)

            _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .cancelled, reason: "cancelled", message: "stopped")])
            info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(info.state == .failed && info.reason == "submit_abandoned")
            #expect(try await engine.zsetMembers(engine.keys.building).isEmpty)
        }
    }

    @Test func aRunCancelledWhileOpenGetsItsLaterTasksCancelled() async throws {
        try await withEngine { engine in
            _ = try await Self.chunk(engine, run: "r", .first, [Self.task("a")])
            _ = try await engine.coordinator.tasks.cancel(workflow: "r")
            #expect(try await engine.coordinator.tasks.run("r")?.state.isTerminal == false) // open: not over
            let last = try await Self.chunk(engine, run: "r", .last, [Self.task("b", after: ["a"]), Self.task("c")])
            #expect(last.tasks.map(\.state) == [.cancelled, .cancelled])
            let info = try #require(try await engine.coordinator.tasks.run("r"))
            #expect(info.state == .cancelled && info.counts == [.cancelled: 3])
            #expect(try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w").isEmpty)
        }
    }

    @Test func refusalsOfAChunkedRunComeBeforeAnythingIsWritten() async throws {
        try await withEngine(limits: Self.limits(chunk: 100)) { engine in
            _ = try await engine.coordinator.tasks.submit([Self.task("holder", unique: "k")])
            let before = try await engine.keySnapshot()
            // a prerequisite outside the run that does not exist, on a task of the last chunk
            var tasks = (0..<450).map { Self.task("t\($0)", after: $0 == 0 ? [] : ["t\($0 - 1)"]) }
            tasks[440].prerequisites.append(Prerequisite("missing"))
            var error = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.submit(tasks, run: RunOptions(id: "r", definition: "d")) }
            #expect(error?.code == .unknownDependency)
            // a unique key that is held, on a task of the last chunk: refused whole
            tasks[440].prerequisites.removeLast()
            tasks[449].uniqueness = Uniqueness(key: "k", mode: .untilFinished)
            error = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.submit(tasks, run: RunOptions(id: "r", definition: "d")) }
            #expect(error?.code == .uniqueHeld)
            #expect(try await engine.keySnapshot() == before)

            // the same run without them, twice with one idempotency key: one run
            tasks[449].uniqueness = nil
            let first = try await engine.coordinator.tasks.submit(tasks, run: RunOptions(definition: "d"), idempotencyKey: "once")
            let again = try await engine.coordinator.tasks.submit(tasks, run: RunOptions(definition: "d"), idempotencyKey: "once")
            #expect(first.created && !again.created && again.run == first.run)
            #expect(try await engine.coordinator.tasks.runs().runs.count == 1)
            try await engine.drain()
            #expect(try await engine.coordinator.tasks.run(try #require(first.run))?.state == .done)
        }
    }
}
