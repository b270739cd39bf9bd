import JobqRedis
import Testing

@testable import JobqCore

/// Task priorities within a queue through the scripts: one ready lane per priority in use, taken
/// highest first (FIFO within one), recovered work still first, and every path that queues a task
/// again (retry, snooze, release, limit and window wake-ups, promote) back to its own lane.
@Suite("priorities: lanes, order, recovered first, wake-ups", .enabled(if: redisAvailable))
struct PriorityScriptTests {
    static func task(_ id: String, _ priority: Int, after: [String] = [], queue: String = "default", attempts: Int = 3) -> TaskSpec {
        var task = spec(id, after: after, queue: queue, maxAttempts: attempts)
        task.priority = priority
        return task
    }

    static func claim(_ engine: EngineFixture, _ count: Int, queues: [String] = ["default"], worker: String = "w") async throws -> [ClaimedTask] {
        try await engine.coordinator.leases.claim(queues: queues, count: count, lease: .seconds(30), worker: worker)
    }

    static func done(_ engine: EngineFixture, _ tasks: [ClaimedTask]) async throws {
        _ = try await engine.coordinator.leases.complete(tasks.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
    }

    @Test func higherFirstFIFOWithinOnePriorityAndTheDefaultBetweenPositiveAndNegative() async throws {
        try await withEngine { engine in
            let plan: [(String, Int)] = [
                ("d1", 0), ("low1", -5), ("hi1", 5), ("top1", 100), ("d2", 0), ("hi2", 5), ("low2", -5), ("bottom", -100),
                ("mid1", 1), ("hi3", 5), ("d3", 0), ("top2", 100),
            ]
            _ = try await engine.coordinator.tasks.submit(plan.map { Self.task($0.0, $0.1) })
            #expect(try await engine.field("hi1", "spec")?.hasPrefix("default 5\t") == true)
            #expect(try await engine.field("d1", "spec")?.hasPrefix("default\t") == true, "the default priority leaves the record as before")
            #expect(try await engine.zsetMembers(engine.keys.levels("default")).sorted() == ["-100", "-5", "1", "100", "5"])
            #expect(try await engine.coordinator.inspector.queues().first?.ready == plan.count, "every priority counts as ready")
            var order: [String] = []
            while case let claimed = try await Self.claim(engine, 5), !claimed.isEmpty {
                order += claimed.map(\.id)
                try await Self.done(engine, claimed)
            }
            #expect(order == ["top1", "top2", "hi1", "hi2", "hi3", "mid1", "d1", "d2", "d3", "low1", "low2", "bottom"])
            // emptied levels are dropped; no lane key is left behind
            let keys = try await engine.keySnapshot().keys
            #expect(!keys.contains { $0.hasPrefix(engine.keys.prefix + "q:") }, "\(keys.sorted())")
        }
    }

    @Test func recoveredWorkIsClaimedBeforeAHigherPriorityBacklog() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.task("victim", -10, attempts: 1)])
            _ = try await Self.claim(engine, 1, worker: "dead")
            _ = try await engine.coordinator.tasks.submit((0..<200).map { Self.task("h\($0)", 50) })
            engine.clock.advance(by: .seconds(31))
            #expect(try await engine.coordinator.maintenance.reap().map(\.id) == ["victim"])
            #expect(try await Self.claim(engine, 3).map(\.id) == ["victim", "h0", "h1"])
        }
    }

    @Test func retriesSnoozesAndHandBacksGoBackToTheirOwnPriority() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.task("r", 7), Self.task("s", 3)])
            let first = try await Self.claim(engine, 2)
            #expect(first.map(\.id) == ["r", "s"])
            _ = try await engine.coordinator.tasks.submit((0..<50).map { Self.task("b\($0)", 0) })
            let outcomes = try await engine.coordinator.leases.fail([
                Failure(lease: first[0].lease, mode: .retry(delay: .seconds(5)), reason: "error", message: "boom"),
                Failure(lease: first[1].lease, mode: .snooze(delay: .seconds(5), retryDelay: .seconds(5)), reason: "snoozed", message: "later"),
            ])
            #expect(outcomes == [.retrying, .snoozed])
            engine.clock.advance(by: .seconds(6))
            _ = try await engine.coordinator.maintenance.promote()
            #expect(try await Self.claim(engine, 3).map(\.id) == ["r", "s", "b0"], "promoted back to priorities 7 and 3, ahead of the default backlog")
        }
    }

    @Test func aDependentIsReleasedIntoItsPriorityLane() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.task("a", 0)])
            _ = try await engine.coordinator.tasks.submit([Self.task("child", 9, after: ["a"])] + (0..<20).map { Self.task("b\($0)", 0) })
            let a = try await Self.claim(engine, 1)
            #expect(a.map(\.id) == ["a"])
            try await Self.done(engine, a)
            #expect(try await Self.claim(engine, 2).map(\.id) == ["child", "b0"])
        }
    }

    @Test func aTaskParkedByItsConcurrencyLimitWakesIntoItsPriorityLane() async throws {
        try await withEngine { engine in
            var keyed = (1...2).map { Self.task("k\($0)", 5) }
            for index in keyed.indices {
                keyed[index].payload = Array("{\"tenant\":\"t\"}".utf8)
                keyed[index].concurrency = ConcurrencyLimit(key: "tenant-{payload.tenant}", limit: 1)
            }
            _ = try await engine.coordinator.tasks.submit(keyed + (0..<20).map { Self.task("b\($0)", 0) })
            let first = try await Self.claim(engine, 2)
            #expect(first.map(\.id) == ["k1", "b0"], "k2 parked at its key's limit, out of the way")
            #expect(try await engine.list(engine.keys.limitParked("tenant-t")) == ["k2"])
            try await Self.done(engine, [first[0]])
            #expect(try await engine.list(engine.keys.ready("default", priority: 5)) == ["k2"])
            #expect(try await Self.claim(engine, 2).map(\.id) == ["k2", "b1"])
        }
    }

    @Test func aTaskParkedByItsRunWindowWakesIntoItsPriorityLane() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit((1...3).map { Self.task("w\($0)", 4) }, run: RunOptions(id: "r", definition: "win", window: 1))
            _ = try await engine.coordinator.tasks.submit((0..<10).map { Self.task("b\($0)", 0) })
            let first = try await Self.claim(engine, 2)
            #expect(first.map(\.id) == ["r/w1", "b0"])
            try await Self.done(engine, [first[0]])
            #expect(try await Self.claim(engine, 2).map(\.id) == ["r/w2", "b1"])
        }
    }

    @Test func aManualRetryOfAFailedTaskQueuesItAtItsPriority() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.task("x", 2, attempts: 1)])
            let claimed = try await Self.claim(engine, 1)
            _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .retry(delay: .zero), reason: "error", message: "no")])
            #expect(try await engine.state("x") == .failed)
            _ = try await engine.coordinator.tasks.submit((0..<5).map { Self.task("b\($0)", 0) })
            _ = try await engine.coordinator.tasks.retry(task: "x")
            #expect(try await Self.claim(engine, 2).map(\.id) == ["x", "b0"])
        }
    }

    @Test func pendingListingsAndTheDoctorSeeEveryLevel() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.task("lo", -1), Self.task("hi", 1), Self.task("d", 0)])
            #expect(try await engine.coordinator.tasks.taskIDs(in: .pending) == ["hi", "d", "lo"], "in claim order")
            let report = try await engine.coordinator.maintenance.diagnose()
            #expect(report.isConsistent, "\(report.problems)")
            #expect(try await engine.coordinator.tasks.task("hi")?.priority == 1)
        }
    }

    /// A schedule's stored submission and a sub-workflow's request keep each task's priority
    /// (and leave the default out, so older records keep their bytes).
    @Test func schedulesAndSubWorkflowsCarryThePriority() throws {
        let tasks = [Self.task("a", 8), Self.task("b", 0)]
        let submission = ScheduledSubmission(tasks: tasks, run: RunOptions(definition: "nightly"))
        #expect(!submission.encoded.contains("\"priority\":0"))
        let decoded = try ScheduledSubmission(encoded: submission.encoded, schedule: "s")
        #expect(decoded.tasks.map(\.priority) == [8, 0])
        let request = try ChildRunRequest(definition: "child", tasks: tasks)
        #expect(try ChildRunRequest.decode(try request.encoded()).submission(id: "c").tasks.map(\.priority) == [8, 0])
    }

    @Test func aPriorityOutOfRangeIsRefusedAndNothingIsWritten() async throws {
        try await withEngine { engine in
            for bad in [101, -101, 1000] {
                let error = await #expect(throws: JobqError.self) {
                    _ = try await engine.coordinator.tasks.submit([Self.task("p\(bad)", bad)])
                }
                #expect(error?.code == .invalidOption)
            }
            let written = try await engine.keySnapshot()
            #expect(written.isEmpty, "\(written.keys.sorted())")
        }
    }
}
