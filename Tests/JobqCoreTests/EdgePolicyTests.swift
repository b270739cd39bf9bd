import JobqRedis
import Testing

@testable import JobqCore

/// Every edge policy × every way a prerequisite ends, driven through the scripts: what the
/// dependent becomes (docs/state-machine.md, "Edge policies"), and the cascade of a SKIPPED one.
@Suite("edge policies × outcomes", .enabled(if: redisAvailable))
struct EdgePolicyTests {
    /// What the dependent does: runs (it is claimable), or ends in a state with a reason.
    enum Reaction: Equatable, CustomStringConvertible {
        case runs
        case ends(TaskState, String)
        var description: String {
            switch self {
            case .runs: "runs"
            case .ends(let state, let reason): "\(state.rawValue) (\(reason))"
            }
        }
    }

    static let outcomes: [TaskState] = [.done, .skipped, .failed, .cancelled]

    static func expected(_ policy: DependencyPolicy, _ outcome: TaskState) -> Reaction {
        switch (policy, outcome) {
        case (.success, .done), (.success, .skipped), (.always, _), (.failure, .failed): .runs
        case (.success, _): .ends(.cancelled, "dependency_failed")
        case (.failure, _): .ends(.skipped, "condition_unmet")
        }
    }

    /// Ends the PENDING task `id` (claimable, alone in its queue) with `outcome`.
    static func end(_ id: String, _ outcome: TaskState, _ engine: EngineFixture) async throws {
        if outcome == .cancelled {
            _ = try await engine.coordinator.tasks.cancel(task: id)
            try await engine.coordinator.runner.settleAll()
            return
        }
        let claimed = try await engine.coordinator.leases.claim(queues: ["p"], count: 1, lease: .seconds(30), worker: "w")
        try #require(claimed.map(\.id) == [id])
        switch outcome {
        case .done, .skipped:
            _ = try await engine.coordinator.leases.complete([Completion(lease: claimed[0].lease, result: Array("null".utf8), skipped: outcome == .skipped)])
        default:
            _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .final, reason: "error", message: "boom")])
        }
        try await engine.coordinator.runner.settleAll()
        #expect(try await engine.state(id) == outcome)
    }

    static func reaction(_ id: String, _ engine: EngineFixture) async throws -> Reaction {
        let state = try await engine.state(id)
        if state == .pending {
            let ready = try await engine.readyList("d")
            return ready.contains(id) ? .runs : .ends(.pending, "not dispatched")
        }
        return .ends(state ?? .pending, try await engine.field(id, "reason") ?? "")
    }

    static func task(_ id: String, queue: String, after: [Prerequisite] = []) -> TaskSpec {
        TaskSpec(id: id, handler: "noop", queue: queue, prerequisites: after, maxAttempts: 1)
    }

    @Test(arguments: DependencyPolicy.allCases)
    func aDependentReactsToEveryOutcomeAsItsPolicySays(policy: DependencyPolicy) async throws {
        for outcome in Self.outcomes {
            try await withEngine { engine in
                // p, then d (policy) and its own `success` dependent e, and a late dependent
                // submitted after p ended (submit.lua decides it at once).
                _ = try await engine.coordinator.tasks.submit([
                    Self.task("p", queue: "p"), Self.task("d", queue: "d", after: [Prerequisite("p", policy: policy)]),
                    Self.task("e", queue: "e", after: [Prerequisite("d")]),
                ])
                try await Self.end("p", outcome, engine)
                let expected = Self.expected(policy, outcome)
                #expect(try await Self.reaction("d", engine) == expected, "\(policy) after \(outcome)")
                _ = try await engine.coordinator.tasks.submit([Self.task("late", queue: "d", after: [Prerequisite("p", policy: policy)])])
                #expect(try await Self.reaction("late", engine) == expected, "late \(policy) after \(outcome)")
                if case .ends(let state, _) = expected {
                    #expect(try await engine.field("d", "cause") == "p")
                    #expect(try await engine.field("late", "cause") == "p")
                    // A SKIPPED dependent settles its own dependents as a SKIPPED task: they run.
                    // A CANCELLED one takes its `success` dependents down with it.
                    let e = try await engine.state("e")
                    let eReady = try await engine.readyList("e")
                    if state == .skipped {
                        #expect(e == .pending && eReady == ["e"])
                    } else {
                        #expect(e == .cancelled)
                    }
                    let events = try await engine.events(of: "d")
                    #expect(events.last == "PENDING>\(state.rawValue):\(state == .skipped ? "condition_unmet" : "dependency_failed")", "\(events)")
                    let lateEvents = try await engine.events(of: "late")
                    #expect(lateEvents == ["->\(state.rawValue):\(state == .skipped ? "condition_unmet" : "dependency_failed")"], "\(lateEvents)")
                }
            }
        }
    }

    @Test func aChainOfFailureEdgesAfterSuccessSkipsOnlyTheFirstAndRunsTheRest() async throws {
        try await withEngine { engine in
            // p DONE: h (failure) is SKIPPED; after it, a success chain runs; a failure edge on a
            // SKIPPED task is SKIPPED too (it did not fail).
            _ = try await engine.coordinator.tasks.submit([
                Self.task("p", queue: "p"), Self.task("h", queue: "d", after: [Prerequisite("p", policy: .failure)]),
                Self.task("x", queue: "d", after: [Prerequisite("h")]), Self.task("y", queue: "d", after: [Prerequisite("h", policy: .failure)]),
            ])
            try await Self.end("p", .done, engine)
            #expect(try await engine.state("h") == .skipped)
            #expect(try await engine.state("y") == .skipped)
            #expect(try await engine.field("y", "cause") == "h")
            #expect(try await engine.readyList("d") == ["x"])
            let stats = try await engine.coordinator.inspector.stats()
            #expect(stats["skipped"] == 2)
            #expect(try await engine.zsetMembers(engine.keys.ended(.skipped)).sorted() == ["h", "y"])
        }
    }

    @Test func aFailureFanOutLargerThanTheSettleBudgetSettlesCompletelyInBoundedCalls() async throws {
        try await withEngine { engine in
            let handlers = (0..<300).map { Self.task("h\($0)", queue: "d", after: [Prerequisite("p", policy: .failure)]) }
            let after = (0..<300).map { Self.task("a\($0)", queue: "e", after: [Prerequisite("h\($0)")]) }
            _ = try await engine.coordinator.tasks.submit([Self.task("p", queue: "p")] + handlers + after)
            let claimed = try await engine.coordinator.leases.claim(queues: ["p"], count: 1, lease: .seconds(30), worker: "w")
            let batch = try await engine.coordinator.leases.completeBatch([Completion(lease: claimed[0].lease, result: Array("null".utf8))])
            // One call settled a budget of them; the rest is on the settle list.
            #expect(batch.cascadesLeft)
            #expect(try await engine.redis.send("LLEN", RedisArgument(engine.keys.settle)).decodeInt() > 0)
            let skippedSoFar = try await engine.zsetMembers(engine.keys.ended(.skipped)).count
            #expect(skippedSoFar > 0 && skippedSoFar < 300)
            try await engine.coordinator.leases.continueCascades()
            let states = try await engine.coordinator.tasks.taskStates(handlers.compactMap(\.id))
            #expect(states.allSatisfy { $0 == .skipped })
            let ready = try await engine.readyList("e")
            #expect(Set(ready) == Set(after.compactMap(\.id)))
            #expect(try await engine.readyList("d").isEmpty)
            #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.settle)).decodeInt() == 0)
        }
    }

    @Test func retryingAPrerequisiteReopensTheTaskItsFailureEdgeSkipped() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([
                Self.task("p", queue: "p"), Self.task("h", queue: "d", after: [Prerequisite("p", policy: .failure)]),
                Self.task("z", queue: "e", after: [Prerequisite("h")]),
            ])
            try await Self.end("p", .cancelled, engine)
            #expect(try await engine.state("h") == .skipped)
            #expect(try await engine.readyList("e") == ["z"]) // z ran its course as after a skip
            // A SKIPPED root is refused: a skip is not a failure.
            await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.retry(task: "h") }
            let reopened = try await engine.coordinator.tasks.retry(task: "p")
            #expect(reopened == ["p", "h"])
            #expect(try await engine.state("h") == .pending)
            #expect(try await engine.field("h", "deps_left") == "1")
            #expect(try await engine.readyList("d").isEmpty)
            // Now p fails: the handler runs.
            try await Self.end("p", .failed, engine)
            #expect(try await engine.readyList("d") == ["h"])
        }
    }

    @Test func retryCountsTheFailureEdgesItReleasedBackOn() async throws {
        try await withEngine { engine in
            // p FAILED released h (failure); retrying p makes h wait for p's next ending again.
            _ = try await engine.coordinator.tasks.submit([
                Self.task("p", queue: "p"), Self.task("q", queue: "q"),
                Self.task("h", queue: "d", after: [Prerequisite("p", policy: .failure), Prerequisite("q")]),
            ])
            try await Self.end("p", .failed, engine)
            #expect(try await engine.field("h", "deps_left") == "1")
            _ = try await engine.coordinator.tasks.retry(task: "p")
            #expect(try await engine.field("h", "deps_left") == "2")
            try await Self.end("p", .done, engine)
            #expect(try await engine.state("h") == .skipped)
        }
    }

    @Test func doctorRecountsFailureEdges() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([
                Self.task("p", queue: "p"), Self.task("h", queue: "d", after: [Prerequisite("p", policy: .failure)]),
            ])
            try await Self.end("p", .failed, engine)
            // Break h's count by hand: the doctor recomputes it under the failure policy.
            _ = try await engine.redis.send("HSET", RedisArgument(engine.keys.task("h")), "deps_left", 1)
            _ = try await engine.redis.send("DEL", RedisArgument(engine.keys.ready("d")))
            let repaired = try await engine.coordinator.runner.run(DoctorCall(mode: .repair, action: .pending, items: [DoctorItem(.pending, "h", kind: .wrongDepsLeft)]))
            #expect(repaired.first?.contains("deps_left 1 -> 0") == true, "\(repaired)")
            #expect(try await engine.readyList("d") == ["h"])
        }
    }
}
