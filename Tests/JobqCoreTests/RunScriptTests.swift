import JobqRedis
import Testing

@testable import JobqCore

/// Workflow runs through the scripts: the run record follows its tasks, runs of one definition
/// share nothing, and the run-level rules (window, deadline, fail-fast, critical tasks) hold.
@Suite("runs: records, window, deadline, fail-fast", .enabled(if: redisAvailable))
struct RunScriptTests {
    static func task(_ key: String, queue: String = "default", after: [String] = [], attempts: Int = 1) -> TaskSpec {
        TaskSpec(id: key, handler: "h", queue: queue, prerequisites: after.map { Prerequisite($0) }, maxAttempts: attempts)
    }

    static func run(_ engine: EngineFixture, _ tasks: [TaskSpec], _ options: RunOptions, key: String? = nil) async throws -> SubmitResult {
        try await engine.coordinator.tasks.submit(tasks, run: options, idempotencyKey: key)
    }

    static func record(_ engine: EngineFixture, _ run: String) async throws -> RunInfo {
        try #require(try await engine.coordinator.tasks.run(run))
    }

    /// The run-level lines of the event stream ("FROM>TO:reason").
    static func runEvents(_ engine: EngineFixture, _ run: String) async throws -> [String] {
        try await engine.events(of: "@" + run)
    }

    @Test func theRunRecordFollowsItsTasks() async throws {
        try await withEngine { engine in
            let submitted = try await Self.run(engine, [Self.task("a"), Self.task("b", after: ["a"]), Self.task("c", after: ["b"])], RunOptions(id: "r1", definition: "chain"))
            #expect(submitted.run == "r1" && submitted.tasks.map(\.id) == ["r1/a", "r1/b", "r1/c"])
            #expect(try await engine.field("r1/b", "deps_left") == "1")
            var info = try await Self.record(engine, "r1")
            #expect(info.state == .pending && info.definition == "chain" && info.counts == [.pending: 3] && info.started == nil)

            let first = try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
            #expect(first.map(\.id) == ["r1/a"])
            info = try await Self.record(engine, "r1")
            #expect(info.state == .running && info.counts == [.pending: 2, .running: 1] && info.started == engine.clock.now)

            _ = try await engine.coordinator.leases.complete([Completion(lease: first[0].lease, result: Array("1".utf8))])
            try await engine.drain()
            info = try await Self.record(engine, "r1")
            #expect(info.state == .done && info.counts == [.done: 3] && info.finished == engine.clock.now)
            #expect(try await Self.runEvents(engine, "r1") == ["->PENDING:submitted", "PENDING>RUNNING:started", "RUNNING>DONE:"])
        }
    }

    @Test func runsOfOneDefinitionShareNothingAndARunIDIsNotReused() async throws {
        try await withEngine { engine in
            let tasks = [Self.task("fetch"), Self.task("parse", after: ["fetch"])]
            let one = try await Self.run(engine, tasks, RunOptions(definition: "nightly"))
            let two = try await Self.run(engine, tasks, RunOptions(definition: "nightly"))
            let first = try #require(one.run)
            let second = try #require(two.run)
            #expect(first != second && first.hasPrefix("nightly-") && second.hasPrefix("nightly-"))
            #expect(try await engine.coordinator.tasks.task(second + "/parse")?.prerequisites == [Prerequisite(second + "/fetch")])

            let before = try await engine.keySnapshot()
            let error = await #expect(throws: JobqError.self) { _ = try await Self.run(engine, tasks, RunOptions(id: first, definition: "nightly")) }
            #expect(error?.code == .runExists)
            #expect(try await engine.keySnapshot() == before)
        }
    }

    @Test func anIdempotencyKeyReturnsTheFirstRunEvenWithAGeneratedID() async throws {
        try await withEngine { engine in
            let tasks = [Self.task("only")]
            let first = try await Self.run(engine, tasks, RunOptions(definition: "d"), key: "k1")
            let again = try await Self.run(engine, tasks, RunOptions(definition: "d"), key: "k1")
            #expect(first.created && !again.created && again.run == first.run && again.tasks.map(\.id) == first.tasks.map(\.id))
            let other = await #expect(throws: JobqError.self) { _ = try await Self.run(engine, [Self.task("else")], RunOptions(definition: "d"), key: "k1") }
            #expect(other?.code == .idempotencyConflict)
        }
    }

    @Test func theWindowHoldsTasksBackWithoutBlockingOtherRuns() async throws {
        try await withEngine { engine in
            _ = try await Self.run(engine, (0..<6).map { Self.task("t\($0)") }, RunOptions(id: "w", definition: "wide", window: 2))
            _ = try await Self.run(engine, (0..<3).map { Self.task("o\($0)") }, RunOptions(id: "other", definition: "d"))
            // One claim of 10: two of the windowed run, and the other run's tasks queued behind.
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
            #expect(claimed.map(\.id) == ["w/t0", "w/t1", "other/o0", "other/o1", "other/o2"])
            #expect(try await engine.list(engine.keys.runParked("w")) == ["w/t2", "w/t3", "w/t4", "w/t5"])
            #expect(try await engine.readyList().isEmpty)
            // Nothing of the run is claimable while the window is full.
            #expect(try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w").isEmpty)

            // One ends: exactly one parked task is queued again, at the front.
            _ = try await engine.coordinator.leases.complete([Completion(lease: claimed[0].lease, result: Array("null".utf8))])
            #expect(try await engine.readyList() == ["w/t2"])
            let next = try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
            #expect(next.map(\.id) == ["w/t2"])
            #expect(try await Self.record(engine, "w").counts[.running] == 2)

            // A failure frees its slot too; the run drains within its window.
            _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[1].lease, mode: .final, reason: "error", message: "x")])
            var current = next
            var peak = 0
            while !current.isEmpty {
                peak = max(peak, try await Self.record(engine, "w").counts[.running] ?? 0)
                _ = try await engine.coordinator.leases.complete(current.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
                current = try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
                #expect(current.count <= 2)
            }
            #expect(peak <= 2)
            let info = try await Self.record(engine, "w")
            #expect(info.state == .failed && info.counts == [.done: 5, .failed: 1], "\(info.counts)")
            #expect(try await engine.list(engine.keys.runParked("w")).isEmpty)
        }
    }

    @Test func failFastStopsTheRestAndTellsRunningHandlers() async throws {
        try await withEngine { engine in
            let tasks = [Self.task("a"), Self.task("b"), Self.task("c", after: ["b"]), Self.task("d")]
            _ = try await Self.run(engine, tasks, RunOptions(id: "ff", definition: "d", failFast: true))
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(30), worker: "w")
            #expect(claimed.map(\.id) == ["ff/a", "ff/b"])
            let batch = try await engine.coordinator.leases.failBatch([Failure(lease: claimed[0].lease, mode: .final, reason: "error", message: "boom")])
            #expect(batch.cascadesLeft, "the failing worker is told to carry the stop on")
            // Claims drop the run's tasks at once, before the cancellation has walked them.
            #expect(try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w").isEmpty)
            try await engine.coordinator.maintenance.continueBoundedWork(staleAfter: .zero)
            #expect(try await engine.state("ff/d") == .cancelled)
            #expect(try await engine.field("ff/d", "reason") == "fail_fast")
            #expect(try await engine.state("ff/c") == .cancelled)
            #expect(try await engine.field("ff/b", "cancel_requested") != nil, "the running handler is told")
            var info = try await Self.record(engine, "ff")
            #expect(info.state == .running && info.reason == "fail_fast" && info.cause == "ff/a")
            // The running one reports back: the run ends FAILED, with the task that caused it.
            _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[1].lease, mode: .cancelled, reason: "cancelled", message: "stopped")])
            info = try await Self.record(engine, "ff")
            #expect(info.state == .failed && info.reason == "fail_fast" && info.cause == "ff/a")
            #expect(try await Self.runEvents(engine, "ff").contains("RUNNING>RUNNING:fail_fast"))
            #expect(try await Self.runEvents(engine, "ff").last == "RUNNING>FAILED:fail_fast")
        }
    }

    @Test func onlyACriticalTaskStopsARunWithoutFailFast() async throws {
        try await withEngine { engine in
            let tasks = [Self.task("minor"), Self.task("after-minor", after: ["minor"]), Self.task("key"), Self.task("other")]
            _ = try await Self.run(engine, tasks, RunOptions(id: "cr", definition: "d", critical: ["key"]))
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .final, reason: "error", message: "minor")])
            try await engine.coordinator.maintenance.continueBoundedWork(staleAfter: .zero)
            #expect(try await engine.state("cr/after-minor") == .cancelled)
            #expect(try await engine.field("cr/after-minor", "reason") == "dependency_failed")
            #expect(try await engine.state("cr/other") == .pending, "a non-critical failure only takes down its dependents")
            #expect(try await Self.record(engine, "cr").reason == nil)

            let key = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            #expect(key.map(\.id) == ["cr/key"])
            _ = try await engine.coordinator.leases.fail([Failure(lease: key[0].lease, mode: .final, reason: "error", message: "key")])
            try await engine.coordinator.maintenance.continueBoundedWork(staleAfter: .zero)
            #expect(try await engine.state("cr/other") == .cancelled)
            #expect(try await engine.field("cr/other", "reason") == "fail_fast")
            let info = try await Self.record(engine, "cr")
            #expect(info.state == .failed && info.reason == "fail_fast" && info.cause == "cr/key")
        }
    }

    @Test func aDeadlineStopsTheRunOnRedisTime() async throws {
        try await withEngine { engine in
            let tasks = [Self.task("slow"), Self.task("later", after: ["slow"]), Self.task("queued")]
            _ = try await Self.run(engine, tasks, RunOptions(id: "dl", definition: "d", deadline: .after(.seconds(60))))
            #expect(try await Self.record(engine, "dl").options["deadline"] == String(engine.clock.now + 60_000))
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(300), worker: "w")
            engine.clock.advance(by: .seconds(59))
            var promoted = try await engine.coordinator.maintenance.promote()
            #expect(promoted.runsStopped == 0 && promoted.nextDue == engine.clock.now + 1000, "the deadline is the next thing due")
            engine.clock.advance(by: .seconds(2))
            promoted = try await engine.coordinator.maintenance.promote()
            #expect(promoted.runsStopped == 1)
            try await engine.coordinator.maintenance.continueBoundedWork(staleAfter: .zero)
            #expect(try await engine.state("dl/queued") == .cancelled)
            #expect(try await engine.field("dl/queued", "reason") == "deadline")
            #expect(try await engine.state("dl/later") == .cancelled)
            #expect(try await engine.field("dl/slow", "cancel_requested") != nil)
            _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .cancelled, reason: "cancelled", message: "stopped")])
            let info = try await Self.record(engine, "dl")
            #expect(info.state == .failed && info.reason == "deadline")
            #expect(try await engine.zsetMembers(engine.keys.deadlines).isEmpty)
        }
    }

    @Test func badRunOptionsAreRefusedAndWriteNothing() async throws {
        try await withEngine { engine in
            let before = try await engine.keySnapshot()
            let rows: [(String, RunOptions, JobqError.Code)] = [
                ("window 0", RunOptions(definition: "d", window: 0), .invalidOption),
                ("window absurd", RunOptions(definition: "d", window: 10_000_000), .invalidOption),
                ("deadline now", RunOptions(definition: "d", deadline: .after(.zero)), .invalidOption),
                ("deadline past", RunOptions(definition: "d", deadline: .after(.seconds(-5))), .invalidOption),
                ("deadline absurd", RunOptions(definition: "d", deadline: .after(.seconds(400 * 24 * 3600))), .invalidOption),
                ("critical not a task", RunOptions(definition: "d", critical: ["ghost"]), .invalidOption),
                ("run id with a slash", RunOptions(id: "a/b", definition: "d"), .invalidName),
                ("definition with a space", RunOptions(definition: "a b"), .invalidName),
            ]
            for (what, options, code) in rows {
                let error = await #expect(throws: JobqError.self, "\(what)") { _ = try await Self.run(engine, [Self.task("a")], options) }
                #expect(error?.code == code, "\(what): \(String(describing: error))")
            }
            #expect(try await engine.keySnapshot() == before)
        }
    }

    @Test func runsArePagedNewestFirstAndFiltered() async throws {
        try await withEngine { engine in
            for index in 0..<5 {
                _ = try await Self.run(engine, [Self.task("x")], RunOptions(id: "r\(index)", definition: index % 2 == 0 ? "even" : "odd"))
                engine.clock.advance(by: .milliseconds(index == 2 ? 0 : 1)) // r2 and r3 share a millisecond
            }
            _ = try await engine.coordinator.tasks.cancel(workflow: "r4")
            var seen: [String] = []
            var cursor: RunCursor?
            repeat {
                let page = try await engine.coordinator.tasks.runs(after: cursor, limit: 2)
                #expect(page.runs.count <= 2)
                seen += page.runs.map(\.id)
                cursor = page.next
            } while cursor != nil
            #expect(seen == ["r4", "r3", "r2", "r1", "r0"])
            #expect(try await engine.coordinator.tasks.runs(definition: "even").runs.map(\.id) == ["r4", "r2", "r0"])
            #expect(try await engine.coordinator.tasks.runs(state: .cancelled).runs.map(\.id) == ["r4"])
            #expect(try await engine.coordinator.tasks.runs(definition: "odd", state: .pending).runs.map(\.id) == ["r3", "r1"])
        }
    }

    @Test func aRetryMakesAnEndedRunRunningAgainAndARunGoesWithItsLastTask() async throws {
        try await withEngine { engine in
            _ = try await Self.run(engine, [Self.task("a"), Self.task("b", after: ["a"])], RunOptions(id: "rt", definition: "d"))
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .final, reason: "error", message: "x")])
            try await engine.coordinator.runner.settleAll()
            #expect(try await Self.record(engine, "rt").state == .failed)
            #expect(try await engine.coordinator.tasks.retry(task: "rt/a") == ["rt/a", "rt/b"])
            var info = try await Self.record(engine, "rt")
            #expect(info.state == .running && info.finished == nil && info.counts == [.pending: 2])
            #expect(try await Self.runEvents(engine, "rt").last == "FAILED>RUNNING:reopened")
            try await engine.drain()
            info = try await Self.record(engine, "rt")
            #expect(info.state == .done)

            // Retention: the run goes with its last task, out of every run index.
            engine.clock.advance(by: .seconds(25 * 3600))
            _ = try await engine.coordinator.maintenance.promote()
            #expect(try await engine.coordinator.tasks.run("rt") == nil)
            #expect(try await engine.zsetMembers(engine.keys.runs).isEmpty)
            #expect(try await engine.zsetMembers(engine.keys.definitionRuns("d")).isEmpty)
        }
    }
}
