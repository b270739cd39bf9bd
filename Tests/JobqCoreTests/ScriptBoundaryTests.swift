import Foundation
import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqCore

/// The Swift↔Lua boundary: every reply shape a script header lists decodes through its call
/// type, a reply of the wrong shape throws instead of defaulting, and the constants Lua uses
/// exist only in Swift.
@Suite("Script boundary: typed calls, generated constants")
struct ScriptBoundaryTests {
    // MARK: Pure: decoders refuse the wrong shape

    private func decode<Call: ScriptCall>(_ call: Call, _ values: [RedisValue]) throws(JobqError) -> Call.Reply {
        var reply = try ScriptReply(script: Call.script.name, value: .array(values))
        let decoded = try call.decode(&reply)
        try reply.end()
        return decoded
    }

    private func bulk(_ text: String) -> RedisValue { .bulk(Array(text.utf8)) }

    @Test func aReplyThatIsNotAStatusArrayIsRefused() throws {
        for value: RedisValue in [.null, .integer(1), bulk("OK"), .array([bulk("1")])] {
            #expect(throws: JobqError.self) { _ = try ScriptReply(script: "x", value: value) }
        }
    }

    @Test func shortAndMistypedRepliesThrowInsteadOfDefaulting() throws {
        let complete = CompleteCall(completions: [Completion(lease: TaskLease(id: "a", token: 1), result: [])])
        #expect(try decode(complete, [.integer(1), .integer(0), .integer(1)]) == LeaseWriteBatch(outcomes: [.done]))
        #expect(try decode(complete, [.integer(1), .integer(1), .integer(1)]).cascadesLeft)
        for bad: [RedisValue] in [
            [.integer(1), .integer(0)],                             // the item code is missing
            [.integer(1), .integer(0), .integer(1), .integer(1)],   // one too many
            [.integer(1), .integer(0), bulk("yes")],                // not a number
            [.integer(1), .integer(0), .integer(7)],                // a code nobody defined
            [.integer(1), .integer(2), .integer(1)],                // a flag that is not 0 or 1
            [.integer(42)],                                         // an unknown status
        ] {
            let error = #expect(throws: JobqError.self) { _ = try decode(complete, bad) }
            #expect(error?.code == .internalError, "\(bad)")
        }
        let claim = ClaimCall(worker: "w", lease: .seconds(1), count: 1, idle: false, queues: ["default"])
        // One task announced, its fields cut short.
        let error = #expect(throws: JobqError.self) { _ = try decode(claim, [.integer(1), .integer(1), .integer(0), .integer(0), bulk("a"), bulk("noop")]) }
        #expect(error?.message.contains("claim") == true)
        #expect(error?.message.contains("reply ends before") == true)
        // A claim mode nobody defined.
        #expect(throws: JobqError.self) { _ = try decode(claim, [.integer(1), .integer(0), .integer(9), .integer(0)]) }
        #expect(try decode(claim, [.integer(1), .integer(0), .integer(ClaimMode.drain.rawValue), .integer(0)]).mode == .drain)
        // the rate wake: 0 is none, a time is kept; a missing one is a short reply
        #expect(try decode(claim, [.integer(1), .integer(0), .integer(0), .integer(0)]).rateWake == nil)
        #expect(try decode(claim, [.integer(1), .integer(0), .integer(0), .integer(1_700_000_000_000)]).rateWake == 1_700_000_000_000)
        #expect(throws: JobqError.self) { _ = try decode(claim, [.integer(1), .integer(0), .integer(0)]) }
        let reap = ReapCall(limit: 1)
        #expect(throws: JobqError.self) { _ = try decode(reap, [.integer(1), .integer(1), bulk("a"), bulk("SLEEPING")]) }
    }

    @Test func refusalCodesBecomeTheirErrors() throws {
        let submit = SubmitCall(items: [], workflow: nil, idempotencyKey: nil, fingerprint: "", idempotencyWindow: .seconds(1))
        let duplicate = #expect(throws: JobqError.self) { _ = try decode(submit, [.integer(ScriptCode.duplicateID.rawValue), bulk("a")]) }
        #expect(duplicate?.code == .duplicateID)
        #expect(duplicate?.subject == "a")
        let retry = RetryCall(id: "a")
        let blocked = #expect(throws: JobqError.self) { _ = try decode(retry, [.integer(ScriptCode.prerequisiteFailed.rawValue), bulk("p")]) }
        #expect(blocked?.code == .prerequisiteFailed)
        #expect(throws: JobqError.self) { _ = try decode(retry, [.integer(1), bulk("other")]) }
    }

    // MARK: Generated constants

    @Test func luaConstantsAreRenderedFromSwiftOnly() throws {
        let generated = Scripts.generated
        for code in ScriptCode.allCases {
            #expect(generated.contains(ScriptConstants.luaName(code)), "\(code)")
        }
        #expect(ScriptConstants.luaName(ScriptCode.duplicateID) == "DUPLICATE_ID")
        #expect(ScriptConstants.luaName(FailItemCode.handedBack) == "HANDED_BACK")
        for pattern in Keyspace.layout {
            #expect(generated.contains("K.\(pattern.lua)"), "\(pattern.lua)")
        }
        // The hand-written files define none of it themselves.
        for script in Scripts.all {
            let own = String(script.source.dropFirst(Scripts.generated.count))
            #expect(!own.contains("local K ="), "\(script.name) defines K")
            #expect(!own.contains("local OK"), "\(script.name) defines its codes")
            #expect(!own.contains("P .. '"), "\(script.name) builds a key name itself")
        }
    }

    @Test func theLuaKeyTableBuildsTheKeysSwiftBuilds() async throws {
        try await withEngine { engine in
            let keys = engine.keys
            // Ask Lua for each key through the generated table, compare with Swift.
            let samples: [(Keyspace.Pattern, String, String)] = [
                (Keyspace.taskPattern, "x", keys.task("x")), (Keyspace.prerequisitesPattern, "x", keys.prerequisites("x")),
                (Keyspace.dependentsPattern, "x", keys.dependents("x")), (Keyspace.logPattern, "x", keys.log("x")),
                (Keyspace.progressPattern, "x", keys.progress("x")), (Keyspace.readyPattern, "q", keys.ready("q")),
                (Keyspace.wakePattern, "q", keys.wake("q")), (Keyspace.endedPattern, "DONE", keys.ended(.done)),
                (Keyspace.workflowPattern, "w", keys.workflow("w")), (Keyspace.workflowTasksPattern, "w", keys.workflowTasks("w")),
                (Keyspace.idempotencyPattern, "k", keys.idempotency("k")), (Keyspace.controlPattern, "w", keys.control("w")),
                (Keyspace.workerPattern, "w", keys.worker("w")), (Keyspace.recoveredPattern, "q", keys.recovered("q")),
                (Keyspace.quarantinePattern, "q", keys.quarantine("q")), (Keyspace.settleEdgesPattern, "x", keys.settleEdges("x")),
                (Keyspace.workflowCancelPattern, "w", keys.workflowCancel("w")), (Keyspace.retryFrontierPattern, "x", keys.retryFrontier("x")),
                (Keyspace.retryHeldPattern, "x", keys.retryHeld("x")), (Keyspace.definitionRunsPattern, "d", keys.definitionRuns("d")),
                (Keyspace.queueRunsPattern, "q", keys.queueRuns("q")),
                (Keyspace.runParkedPattern, "r", keys.runParked("r")),
                (Keyspace.attemptsPattern, "x", keys.attempts("x")),
                (Keyspace.cachePattern, "d", keys.cache("d")), (Keyspace.rerunPattern, "r", keys.rerun("r")),
                (Keyspace.rerunTasksPattern, "r", keys.rerunTasks("r")), (Keyspace.rerunTodoPattern, "r", keys.rerunTodo("r")),
                (Keyspace.schedulePattern, "s", keys.schedule("s")),
                (Keyspace.limitParkedPattern, "k", keys.limitParked("k")), (Keyspace.legacyLimitPattern, "k", keys.legacyLimit("k")),
                (Keyspace.uniquePattern, "k", keys.unique("k")), (Keyspace.debouncePattern, "k", keys.debounce("k")),
                (Keyspace.throttlePattern, "k", keys.throttle("k")),
                (Keyspace.levelsPattern, "q", keys.levels("q")),
                (Keyspace.throughputPattern, "7", keys.throughput(hour: 7)),
                (Keyspace.ratePattern, "k", keys.rate("k")), (Keyspace.rateStartsPattern, "k", keys.rateStarts("k")),
                (Keyspace.rateParkedPattern, "k", keys.rateParked("k")),
            ]
            for (pattern, argument, expected) in samples {
                let lua = Scripts.generated + "return K.\(pattern.lua)('\(argument)')"
                let reply = try await engine.redis.send("EVAL", RedisArgument(lua), 1, RedisArgument(keys.prefix))
                #expect(reply.string == expected, "\(pattern.lua)")
            }
            let fixed: [(Keyspace.Pattern, String)] = [
                (Keyspace.delayedPattern, keys.delayed), (Keyspace.leasesPattern, keys.leases), (Keyspace.waitingPattern, keys.waiting),
                (Keyspace.eventsPattern, keys.events), (Keyspace.tokenPattern, keys.token), (Keyspace.pausedPattern, keys.paused),
                (Keyspace.queuesPattern, keys.queues), (Keyspace.statsPattern, keys.stats),
                (Keyspace.maintenancePattern, keys.maintenanceLock), (Keyspace.workersPattern, keys.workers),
                (Keyspace.drainerPattern, keys.drainer),
                (Keyspace.settlePattern, keys.settle), (Keyspace.continuationsPattern, keys.continuations), (Keyspace.runsPattern, keys.runs), (Keyspace.deadlinesPattern, keys.deadlines),
                (Keyspace.expiringPattern, keys.expiring), (Keyspace.signalTimeoutsPattern, keys.signalTimeouts),
                (Keyspace.schedulesPattern, keys.schedules), (Keyspace.limitCountsPattern, keys.limitCounts),
                (Keyspace.limitParkedKeysPattern, keys.limitParkedKeys), (Keyspace.legacyLimitsPattern, keys.legacyLimits), (Keyspace.rateLogsPattern, keys.rateLogs),
                (Keyspace.ratesPattern, keys.rates), (Keyspace.ratePausesPattern, keys.ratePauses), (Keyspace.buildingPattern, keys.building),
            ]
            for (pattern, expected) in fixed {
                let reply = try await engine.redis.send("EVAL", RedisArgument(Scripts.generated + "return K.\(pattern.lua)"), 1, RedisArgument(keys.prefix))
                #expect(reply.string == expected, "\(pattern.lua)")
            }
            // two parameters: a priority lane (negative priorities included)
            var pairs = 0
            for (queue, priority) in [("q", 7), ("q", -100)] {
                let lua = Scripts.generated + "return K.\(Keyspace.priorityLanePattern.lua)('\(queue)', \(priority))"
                let reply = try await engine.redis.send("EVAL", RedisArgument(lua), 1, RedisArgument(keys.prefix))
                #expect(reply.string == keys.ready(queue, priority: priority), "\(Keyspace.priorityLanePattern.lua) \(priority)")
                pairs = 1
            }
            // the fair ring of a priority, and a fair key's list at one (`<priority>:<key>`)
            for (lua, expected) in [
                ("K.\(Keyspace.fairRingPattern.lua)('q', -5)", keys.fairRing("q", priority: -5)),
                ("K.\(Keyspace.fairLanePattern.lua)('q', -5 .. ':' .. 'tenant-1')", keys.fairLane("q", priority: -5, key: "tenant-1")),
            ] {
                let reply = try await engine.redis.send("EVAL", RedisArgument(Scripts.generated + "return " + lua), 1, RedisArgument(keys.prefix))
                #expect(reply.string == expected, "\(lua)")
                pairs += 1
            }
            #expect(keys.ready("q", priority: 0) == keys.ready("q"), "priority 0 is the plain ready list")
            #expect(samples.count + fixed.count + pairs == Keyspace.layout.count, "a key shape without a check")
        }
    }

    @Test func everyKeyIsDocumented() throws {
        let doc = try String(contentsOf: repositoryRoot().appendingPathComponent("docs/keyspace.md"), encoding: .utf8)
        for pattern in Keyspace.layout {
            #expect(doc.contains("`\(pattern.documented)`"), "docs/keyspace.md does not list `\(pattern.documented)`")
        }
    }

    @Test func theSwiftSpecReaderAgreesWithWhatSubmitPacks() async throws {
        try await withEngine { engine in
            let title = "a title: with spaces and ünïcode"
            let task = TaskSpec(id: "a", handler: "h.x", queue: "q1", payload: Array("{}".utf8), maxAttempts: 4,
                                backoff: .fixed(delay: .seconds(3)), timeout: .seconds(7), resultTTL: .seconds(60), title: title)
            _ = try await engine.coordinator.tasks.submit([task], workflow: "wf")
            let raw = try #require(try await engine.field("a", "spec"))
            let spec = try #require(PackedSpec(raw))
            #expect(spec.queue == "q1")
            #expect(spec.handler == "h.x")
            #expect(spec.maxAttempts == 4)
            #expect(spec.timeoutMilliseconds == 7000)
            #expect(spec.ttlMilliseconds == 60_000)
            #expect(spec.workflow == "wf")
            #expect(spec.prerequisiteCount == 0)
            #expect(RetryBackoff(json: spec.backoff) == .fixed(delay: .seconds(3)))
            #expect(spec.title == title)
        }
    }

    // MARK: Against Redis: every reply shape of every script header decodes

    @Test(.enabled(if: redisAvailable)) func everyListedReplyShapeDecodes() async throws {
        try await withEngine { engine in
            let c = engine.coordinator
            // submit: {1, created, (id, state)...}, replay {1, 0, ...}, and the refusals.
            let first = try await c.tasks.submit([spec("a"), spec("b", after: ["a"])], idempotencyKey: "k")
            #expect(first.created && first.tasks.map(\.state) == [.pending, .pending])
            #expect(try await c.tasks.submit([spec("a"), spec("b", after: ["a"])], idempotencyKey: "k").created == false)
            for (tasks, code) in [([spec("a")], JobqError.Code.duplicateID), ([spec("z", after: ["nope"])], .unknownDependency)] {
                let error = await #expect(throws: JobqError.self) { _ = try await c.tasks.submit(tasks) }
                #expect(error?.code == code)
            }
            let conflict = await #expect(throws: JobqError.self) { _ = try await c.tasks.submit([spec("other")], idempotencyKey: "k") }
            #expect(conflict?.code == .idempotencyConflict)
            // claim: tasks with their prerequisites' outcomes.
            let claimedA = try await c.leases.claim(queues: ["default"], count: 5, lease: .seconds(30), worker: "w")
            #expect(claimedA.map(\.id) == ["a"])
            // heartbeat: 1 extended, 2 cancel requested, -3 stale.
            let stale = TaskLease(id: "a", token: claimedA[0].lease.token + 1000)
            #expect(try await c.leases.heartbeat([claimedA[0].lease, stale], lease: .seconds(30), worker: "w") == [.extended, .refused(.staleToken)])
            // progress: 1, -3.
            #expect(try await c.leases.report(claimedA[0].lease, log: ["x"]) == .extended)
            #expect(try await c.leases.report(stale, log: ["x"]) == .refused(.staleToken))
            // cancel: REQUESTED, then already requested.
            #expect(try await c.tasks.cancel(task: "a") == .requested)
            #expect(try await c.tasks.cancel(task: "a") == .alreadyRequested)
            #expect(try await c.leases.heartbeat([claimedA[0].lease], lease: .seconds(30), worker: "w") == [.cancelRequested])
            // fail: 3 CANCELLED (requested), and b, cancelled through its prerequisite.
            #expect(try await c.leases.fail([Failure(lease: claimedA[0].lease, mode: .retry(delay: .zero), reason: "error", message: "x")]) == [.cancelled])
            #expect(try await engine.state("b") == .cancelled)
            // cancel refusals: not found, wrong state.
            for (id, code) in [("nope", JobqError.Code.notFound), ("a", .invalidState)] {
                let error = await #expect(throws: JobqError.self) { _ = try await c.tasks.cancel(task: id) }
                #expect(error?.code == code)
            }
            // retry: {1, a, b} re-opens the dependent too; refusals.
            #expect(try await c.tasks.retry(task: "a") == ["a", "b"])
            for (id, code) in [("nope", JobqError.Code.notFound), ("a", .invalidState), ("b", .invalidState)] {
                let error = await #expect(throws: JobqError.self) { _ = try await c.tasks.retry(task: id) }
                #expect(error?.code == code)
            }
            // fail: 1 retrying, 4 handed back, 2 FAILED; complete: 1, -2.
            var claimed = try await c.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            #expect(try await c.leases.fail([Failure(lease: claimed[0].lease, mode: .retry(delay: .zero), reason: "error", message: "x")]) == [.retrying])
            claimed = try await c.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            #expect(try await c.leases.fail([Failure(lease: claimed[0].lease, mode: .handBack, reason: "shutdown", message: "x")]) == [.handedBack])
            claimed = try await c.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            #expect(try await c.leases.complete([Completion(lease: claimed[0].lease, result: Array("1".utf8))]) == [.done])
            #expect(try await c.leases.complete([Completion(lease: claimed[0].lease, result: [])]) == [.refused(.invalidState)])
            #expect(try await c.leases.fail([Failure(lease: TaskLease(id: "nope", token: 1), mode: .final, reason: "error", message: "")]) == [.refused(.notFound)])
            claimed = try await c.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            #expect(claimed.first?.prerequisites.map(\.state) == [.done])
            #expect(try await c.leases.fail([Failure(lease: claimed[0].lease, mode: .final, reason: "error", message: "x")]) == [.failed])
            // reap: {1, n, (id, state)...}; promote: {1, promoted, deleted, next due}.
            _ = try await c.tasks.submit([spec("r", maxAttempts: 2)])
            _ = try await c.leases.claim(queues: ["default"], count: 1, lease: .seconds(1), worker: "w")
            engine.clock.advance(by: .seconds(2))
            #expect(try await c.maintenance.reap() == [ReapedTask(id: "r", state: .pending)])
            _ = try await c.tasks.submit([TaskSpec(id: "later", handler: "noop", delay: .seconds(5))])
            let promoted = try await c.maintenance.promote()
            #expect(promoted.promoted == 0 && promoted.nextDue != nil)
            // queue: changed, unchanged, unknown.
            #expect(try await c.maintenance.pause(queue: "default"))
            #expect(try await c.maintenance.pause(queue: "default") == false)
            #expect(try await c.maintenance.resume(queue: "default"))
            let unknown = await #expect(throws: JobqError.self) { _ = try await c.maintenance.pause(queue: "nope") }
            #expect(unknown?.code == .notFound)
            // doctor: one answer per item.
            #expect(try await c.maintenance.doctor(mode: .check, [DoctorItem(.corrupt, "a", kind: .corruptRecord)]) == ["ok"])
        }
    }
}

/// The checkout's root (Tests/JobqCoreTests/ScriptBoundaryTests.swift is three levels down).
private func repositoryRoot() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
