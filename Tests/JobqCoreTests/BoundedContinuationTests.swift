import JobqRedis
import Testing

@testable import JobqCore

/// Bounded operations driven one call at a time, with claims between the calls: the end state
/// is the one a single call produced, and no claim ever gets a task that should have been
/// cancelled or whose prerequisites have not all succeeded.
@Suite("bounded continuation", .enabled(if: redisAvailable))
struct BoundedContinuationTests {
    /// A chain of `length` tasks `prefix0 → prefix1 → …`, in batches of 500.
    func chain(_ engine: EngineFixture, _ prefix: String, _ length: Int) async throws -> [String] {
        let ids = (0..<length).map { prefix + String($0) }
        for start in stride(from: 0, to: length, by: 500) {
            _ = try await engine.coordinator.tasks.submit((start..<min(start + 500, length)).map { spec(ids[$0], after: $0 == 0 ? [] : [ids[$0 - 1]]) })
        }
        return ids
    }

    /// Claims what is runnable and checks each claimed task against `allowed`; completes them.
    func claimBetween(_ engine: EngineFixture, allowed: (ClaimedTask) -> Bool) async throws -> Int {
        let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 50, lease: .seconds(30), worker: "w")
        for task in claimed {
            #expect(allowed(task), "claimed \(task.id) between continuation calls")
        }
        if !claimed.isEmpty {
            _ = try await engine.coordinator.leases.complete(claimed.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
        }
        return claimed.count
    }

    @Test func aCascadeInManyCallsEndsAsOneCallWouldAndNothingCancelledIsClaimedMeanwhile() async throws {
        try await withEngine { engine in
            let ids = try await chain(engine, "c", 2_000)
            _ = try await engine.coordinator.tasks.submit([spec("free")])
            let first = try await engine.coordinator.runner.run(CancelTaskCall(id: "c0", message: "stop"))
            #expect(first.outcome == .cancelled && first.status == .more)
            var calls = 1
            var claimedFree = 0
            while true {
                claimedFree += try await claimBetween(engine) { $0.id == "free" }
                calls += 1
                if try await engine.coordinator.runner.run(SettleCall()).status == .done { break }
            }
            #expect(calls > 5, "the cascade should have needed several calls, took \(calls)")
            #expect(claimedFree == 1)
            for (index, id) in ids.enumerated() {
                #expect(try await engine.state(id) == .cancelled)
                if index > 0 {
                    #expect(try await engine.field(id, "reason") == "dependency_failed")
                    #expect(try await engine.field(id, "cause") == ids[index - 1])
                }
            }
            let cancelled = try await engine.redis.send("ZCARD", RedisArgument(engine.keys.ended(.cancelled))).decodeInt()
            #expect(cancelled == ids.count)
            #expect(try await engine.redis.send("HGET", RedisArgument(engine.keys.stats), "cancelled").decodeString() == "2000")
            let events = try await engine.coordinator.inspector.events(after: "0-0", block: nil, count: 100_000).records
            let ended = Set(events.filter { $0.to == .cancelled }.map(\.task))
            #expect(ended == Set(ids))
            // Nothing of the continuation is left behind.
            #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.settle)).decodeInt() == 0)
            #expect(try await engine.redis.send("KEYS", RedisArgument(engine.keys.prefix + "t:*:settle")).decodeArray().isEmpty)
        }
    }

    @Test func aWideCascadeReleasesAlwaysDependentsOnlyOnceTheirEdgeIsSettled() async throws {
        try await withEngine { engine in
            // root has 700 success dependents and 700 always dependents; it fails.
            _ = try await engine.coordinator.tasks.submit([spec("root", maxAttempts: 1)])
            let strict = (0..<700).map { "s" + String($0) }
            let lenient = (0..<700).map { "a" + String($0) }
            _ = try await engine.coordinator.tasks.submit(strict.map { spec($0, after: ["root"]) })
            _ = try await engine.coordinator.tasks.submit(lenient.map { spec($0, after: ["root"], policy: .always) })
            let task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")[0]
            #expect(try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .final, reason: "error", message: "boom")]) == [.failed])
            // The worker's call settled a budget of them; the rest waits on the settle list.
            #expect(try await engine.redis.send("LLEN", RedisArgument(engine.keys.settle)).decodeInt() > 0)
            var released = Set<String>()
            repeat {
                let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 100, lease: .seconds(30), worker: "w")
                for task in claimed {
                    #expect(task.id.hasPrefix("a"), "claimed \(task.id), which should be cancelled")
                    #expect(task.prerequisites.map(\.state) == [.failed])
                    released.insert(task.id)
                }
            } while try await engine.coordinator.runner.run(SettleCall()).status != .done
            released.formUnion(try await engine.coordinator.leases.claim(queues: ["default"], count: 1000, lease: .seconds(30), worker: "w").map(\.id))
            #expect(released == Set(lenient))
            for id in strict {
                #expect(try await engine.state(id) == .cancelled)
                #expect(try await engine.field(id, "cause") == "root")
            }
            // The edges are all back where the graph views read them.
            #expect(try await engine.redis.send("HLEN", RedisArgument(engine.keys.dependents("root"))).decodeInt() == 1_400)
        }
    }

    @Test func aWorkflowCancelledInManyCallsLetsNoClaimRunItsTasks() async throws {
        try await withEngine { engine in
            let ids = (0..<1_500).map { "w" + String($0) }
            _ = try await engine.coordinator.tasks.submit(ids.map { spec($0) }, workflow: "wf")
            _ = try await engine.coordinator.tasks.submit([spec("free")])
            var reply = try await engine.coordinator.runner.run(CancelWorkflowCall(workflow: "wf", message: "stop", step: .start))
            #expect(reply.status == .more)
            var calls = 1
            while reply.status != .done {
                _ = try await claimBetween(engine) { $0.id == "free" }
                reply = try await engine.coordinator.runner.run(CancelWorkflowCall(workflow: "wf", message: "stop", step: .next))
                calls += 1
            }
            #expect(calls > 2)
            #expect(reply.totals == WorkflowCancellation(cancelled: 1_500, requested: 0))
            #expect(try await engine.coordinator.tasks.summary(workflow: "wf")?.description == "1500C")
            #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.workflowCancel("wf"))).decodeInt() == 0)
            #expect(try await engine.redis.send("ZCARD", RedisArgument(engine.keys.continuations)).decodeInt() == 0)
        }
    }

    @Test func aRetryInManyCallsReopensTopDownAndClaimsOnlyTasksWhosePrerequisitesSucceeded() async throws {
        try await withEngine { engine in
            let ids = try await chain(engine, "c", 1_500)
            #expect(try await engine.coordinator.tasks.cancel(task: "c0") == .cancelled)
            var reply = try await engine.coordinator.runner.run(RetryCall(id: "c0", step: .start))
            var reopened = reply.reopened
            var ran: [String] = []
            while reply.status != .done {
                let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 50, lease: .seconds(30), worker: "w")
                for task in claimed {
                    #expect(task.prerequisites.allSatisfy { $0.state == .done }, "\(task.id) claimed before its prerequisites succeeded")
                    ran.append(task.id)
                }
                if !claimed.isEmpty {
                    _ = try await engine.coordinator.leases.complete(claimed.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
                }
                if reply.status == .settle { try await engine.coordinator.runner.settleAll() }
                reply = try await engine.coordinator.runner.run(RetryCall(id: "c0", step: .next))
                reopened += reply.reopened
            }
            #expect(reopened == ids, "re-opened top-down, the root first")
            ran += try await engine.drain()
            // (c0 sits twice in the ready list — its stale id from before the cancel and the
            // retry's — and one claim batch may pop both: the first run counts.)
            var seen = Set<String>()
            let firstRuns = ran.filter { seen.insert($0).inserted }
            #expect(firstRuns == ids, "ran in dependency order")
        }
    }

    @Test func aRetryOfAWideTaskCountsItsAlwaysDependentsOnBeforeReopening() async throws {
        try await withEngine { engine in
            // hub has 100 always dependents (each also waiting for `other`) and fails; a retry
            // must make them wait for hub again.
            _ = try await engine.coordinator.tasks.submit([spec("hub", maxAttempts: 1), spec("other")])
            let lenient = (0..<100).map { "a" + String($0) }
            _ = try await engine.coordinator.tasks.submit(lenient.map {
                TaskSpec(id: $0, handler: "noop", queue: "default", payload: Array("{}".utf8),
                         prerequisites: [Prerequisite("hub", policy: .always), Prerequisite("other")])
            })
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(30), worker: "w")
            let hub = try #require(claimed.first { $0.id == "hub" })
            let other = try #require(claimed.first { $0.id == "other" })
            _ = try await engine.coordinator.leases.fail([Failure(lease: hub.lease, mode: .final, reason: "error", message: "boom")])
            // (100 dependents: more than one call settles; the rest is on the settle list, which
            // the retry below would settle first itself.)
            try await engine.coordinator.runner.settleAll()
            #expect(try await engine.field("a0", "deps_left") == "1")
            #expect(try await engine.coordinator.tasks.retry(task: "hub") == ["hub"])
            #expect(try await engine.field("a0", "deps_left") == "2")
            #expect(try await engine.field("hub", "retrying") == nil)
            _ = try await engine.coordinator.leases.complete([Completion(lease: other.lease, result: Array("null".utf8))])
            // Only hub is runnable; its dependents follow it.
            let next = try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
            #expect(next.map(\.id) == ["hub"])
            _ = try await engine.coordinator.leases.complete(next.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
            #expect(Set(try await engine.drain()) == Set(lenient))
        }
    }

    @Test func aWorkerCascadeLeftBehindIsFinishedByTheMaintenancePass() async throws {
        try await withEngine { engine in
            let ids = try await chain(engine, "c", 1_000)
            let task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")[0]
            _ = try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .final, reason: "error", message: "boom")])
            #expect(try await engine.state(ids[999]) == .pending)
            try await engine.coordinator.maintenance.continueBoundedWork()
            #expect(try await engine.state(ids[999]) == .cancelled)
            #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.settle)).decodeInt() == 0)
        }
    }

    @Test func aWorkflowCancelAndARetryWhoseClientDiedAreFinishedByTheMaintenancePass() async throws {
        try await withEngine { engine in
            let ids = (0..<600).map { "w" + String($0) }
            _ = try await engine.coordinator.tasks.submit(ids.map { spec($0) }, workflow: "wf")
            let chainIDs = try await chain(engine, "c", 600)
            #expect(try await engine.coordinator.tasks.cancel(task: "c0") == .cancelled)
            // One call each, then the clients "die".
            #expect(try await engine.coordinator.runner.run(CancelWorkflowCall(workflow: "wf", message: "stop", step: .start)).status == .more)
            #expect(try await engine.coordinator.runner.run(RetryCall(id: "c0", step: .start)).status == .more)
            // A claim meanwhile runs nothing of the workflow being cancelled.
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 100, lease: .seconds(30), worker: "w")
            #expect(claimed.allSatisfy { $0.id.hasPrefix("c") })
            _ = try await engine.coordinator.leases.fail(claimed.map { Failure(lease: $0.lease, mode: .handBack, reason: "shutdown", message: "") })
            // Not yet stale: the pass leaves them to their clients.
            try await engine.coordinator.maintenance.continueBoundedWork()
            #expect(try await engine.redis.send("ZCARD", RedisArgument(engine.keys.continuations)).decodeInt() == 2)
            engine.clock.advance(by: .seconds(6))
            try await engine.coordinator.maintenance.continueBoundedWork()
            #expect(try await engine.redis.send("ZCARD", RedisArgument(engine.keys.continuations)).decodeInt() == 0)
            #expect(try await engine.coordinator.tasks.summary(workflow: "wf")?.description == "600C")
            for id in chainIDs { #expect(try await engine.state(id) == .pending) }
        }
    }

    @Test func anUnknownStepIsRefusedAndWritesNothing() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")], workflow: "wf")
            let before = try await engine.keySnapshot()
            for (script, arguments) in [
                (Scripts.retry, ["sideways", "a"]), (Scripts.cancel, ["workflow", "wf", "m", "sideways"]), (Scripts.cancel, ["task", "a", "m", "sideways"]),
            ] {
                let reply = try await engine.coordinator.runner.evaluate(script, arguments.map { RedisArgument($0) })
                let parts = try reply.decodeArray()
                #expect(try parts[0].decodeInt() == ScriptCode.invalidArgument.rawValue)
                #expect(try parts[1].decodeString() == "step")
            }
            #expect(try await engine.keySnapshot() == before)
            #expect(try await engine.state("a") == .pending)
        }
    }

    @Test func aRetryWhileTheTasksOwnCascadeIsInFlightSettlesItFirst() async throws {
        try await withEngine { engine in
            let children = (0..<200).map { "k" + String($0) }
            _ = try await engine.coordinator.tasks.submit([spec("root", maxAttempts: 1)] + children.map { spec($0, after: ["root"]) })
            let task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")[0]
            _ = try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .final, reason: "error", message: "boom")])
            #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.settleEdges("root"))).decodeInt() == 1)
            // The first retry call answers `settle` and writes nothing; the store settles, retries.
            let ids = try await engine.coordinator.tasks.retry(task: "root")
            #expect(ids.first == "root" && Set(ids.dropFirst()) == Set(children) && ids.count == 201)
            for id in children { #expect(try await engine.field(id, "deps_left") == "1") }
            #expect(try await engine.drain().count == 201)
        }
    }

    @Test func aWideRetryThatCannotReopenAfterAllReleasesWhatItCountedOn() async throws {
        try await withEngine { engine in
            // hub waits for `pre` (running) and is cancelled by hand; its 1,000 always
            // dependents also wait for `other` (running). A retry of hub counts them on again
            // (phase a, several calls); meanwhile `pre` fails, so hub cannot re-open: phase u
            // releases exactly what phase a counted on.
            _ = try await engine.coordinator.tasks.submit([spec("pre", maxAttempts: 1), spec("other")])
            let running = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(60), worker: "w")
            let pre = try #require(running.first { $0.id == "pre" })
            let other = try #require(running.first { $0.id == "other" })
            _ = try await engine.coordinator.tasks.submit([spec("hub", after: ["pre"])])
            let lenient = (0..<1_000).map { "e" + String($0) }
            for start in stride(from: 0, to: lenient.count, by: 500) {
                _ = try await engine.coordinator.tasks.submit(lenient[start..<(start + 500)].map {
                    TaskSpec(id: $0, handler: "noop", queue: "default", payload: Array("{}".utf8),
                             prerequisites: [Prerequisite("hub", policy: .always), Prerequisite("other")])
                })
            }
            #expect(try await engine.coordinator.tasks.cancel(task: "hub") == .cancelled)
            #expect(try await engine.field("e0", "deps_left") == "1")
            var reply = try await engine.coordinator.runner.run(RetryCall(id: "hub", step: .start))
            #expect(reply.status == .more && reply.reopened.isEmpty)
            #expect(try await engine.field("hub", "retrying") == "hub")
            _ = try await engine.coordinator.leases.fail([Failure(lease: pre.lease, mode: .final, reason: "error", message: "boom")])
            while reply.status != .done {
                #expect(reply.reopened.isEmpty)
                reply = try await engine.coordinator.runner.run(RetryCall(id: "hub", step: .next))
            }
            #expect(reply.reopened.isEmpty)
            #expect(try await engine.state("hub") == .cancelled)
            #expect(try await engine.field("hub", "retrying") == nil)
            for id in lenient { #expect(try await engine.field(id, "deps_left") == "1") }
            #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.retryHeld("hub"))).decodeInt() == 0)
            _ = try await engine.coordinator.leases.complete([Completion(lease: other.lease, result: Array("null".utf8))])
            #expect(Set(try await engine.drain()) == Set(lenient))
        }
    }
}
