import Foundation
import JobqRedis
import Testing

@testable import JobqCore

/// The cache key template, without Redis.
@Suite("cache key templates")
struct CacheKeyTests {
    @Test func templatesParseIntoTheirParts() throws {
        #expect(try CacheKey("{handler}:{payload}").parts == [.handler, .text(":"), .payload])
        #expect(try CacheKey("v2/{result:fetch}").parts == [.text("v2/"), .result("fetch")])
        #expect(try CacheKey("constant").parts == [.text("constant")])
        #expect(try CacheKey("{result:a}{result:b}").resultReferences == ["a", "b"])
    }

    @Test(arguments: ["", "{", "x}", "{payload", "{when}", "{result:}", "{result:a{b}", String(repeating: "x", count: CacheKey.maxBytes + 1),
                      String(repeating: "{result:a}", count: CacheKey.maxResults + 1)])
    func badTemplatesAreRefusedWithAStableCode(template: String) {
        let error = #expect(throws: JobqError.self) { _ = try CacheKey(template) }
        #expect(error?.code == .invalidCacheKey, "\(template)")
    }

    @Test func aResultMustBeAPrerequisite() throws {
        let key = try CacheKey("{result:fetch}")
        try key.validate(prerequisites: ["fetch"])
        let error = #expect(throws: JobqError.self) { try key.validate(prerequisites: ["other"]) }
        #expect(error?.code == .invalidCacheKey && error?.subject == "fetch")
    }
}

/// Incremental runs through the scripts: cached results, OUTDATED tasks, rerun --outdated.
@Suite("cache keys, outdated tasks and rerun --outdated in the scripts", .enabled(if: redisAvailable))
struct CacheScriptTests {
    static func task(_ key: String, after: [Prerequisite] = [], payload: String = "{}", cacheKey: String? = nil) throws -> TaskSpec {
        TaskSpec(id: key, handler: "h", payload: Array(payload.utf8), prerequisites: after, maxAttempts: 1,
                 cacheKey: try cacheKey.map { template throws(JobqError) in try CacheKey(template) })
    }

    /// fetch (keyed on handler and payload) -> build (keyed on fetch's result).
    static func pipeline(fetchPayload: String = #"{"url":"a"}"#) throws -> [TaskSpec] {
        [try task("fetch", payload: fetchPayload, cacheKey: "{handler}:{payload}"),
         try task("build", after: [Prerequisite("fetch")], cacheKey: "build:{result:fetch}")]
    }

    /// Each task's result: its id's key and its payload, so that a changed payload changes it.
    static func result(_ task: ClaimedTask) -> [UInt8] {
        Array(#"{"from":"\#(RunScope.key(of: task.id))","n":\#(task.payload.count)}"#.utf8)
    }

    @Test func theSameRunTwiceIsCachedWithoutRunning() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit(try Self.pipeline(), run: RunOptions(id: "r1", definition: "p"))
            #expect(try await engine.drain(result: Self.result) == ["r1/fetch", "r1/build"])
            #expect(try await engine.field("r1/build", "cache_digest") != nil)
            let digest = try #require(try await engine.field("r1/fetch", "cache_digest"))
            let pttl = try await engine.redis.send("PTTL", RedisArgument(engine.keys.cache(digest))).decodeInt()
            #expect(pttl > 0 && pttl <= Int(TaskSpec.defaultResultTTL.jobqMilliseconds), "the index lives as long as the task is kept")

            let second = try await engine.coordinator.tasks.submit(try Self.pipeline(), run: RunOptions(id: "r2", definition: "p"))
            #expect(second.tasks.map(\.state) == [.done, .done], "ended at submit, from the cache")
            #expect(try await engine.drain(result: Self.result).isEmpty, "nothing to claim: nothing runs")
            for key in ["fetch", "build"] {
                let info = try #require(try await engine.coordinator.tasks.task("r2/" + key))
                #expect(info.state == .done && info.cached == "r1/" + key && info.reason == "cached")
                #expect(info.result == (try await engine.coordinator.tasks.task("r1/" + key))?.result)
                #expect(try await engine.events(of: "r2/" + key) == ["->PENDING:", "PENDING>DONE:cached"])
                #expect(try await engine.redis.send("LLEN", RedisArgument(engine.keys.attempts("r2/" + key))).decodeInt() == 0, "no attempt was made")
            }
            #expect(try #require(try await engine.coordinator.tasks.run("r2")).state == .done)
        }
    }

    @Test func aChangedPayloadChangesTheKeyAndRuns() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit(try Self.pipeline(), run: RunOptions(id: "r1", definition: "p"))
            try await engine.drain(result: Self.result)
            _ = try await engine.coordinator.tasks.submit(try Self.pipeline(fetchPayload: #"{"url":"bb"}"#), run: RunOptions(id: "r2", definition: "p"))
            // fetch runs (another payload); its result differs, so build's key differs and it runs too.
            #expect(try await engine.drain(result: Self.result) == ["r2/fetch", "r2/build"])
            #expect(try await engine.field("r2/fetch", "cached") == nil)
            #expect(try await engine.field("r2/build", "cached") == nil)
            // Same payload length, so the same fetch result: build is cached although fetch ran.
            _ = try await engine.coordinator.tasks.submit(try Self.pipeline(fetchPayload: #"{"url":"c"}"#), run: RunOptions(id: "r3", definition: "p"))
            #expect(try await engine.drain(result: Self.result) == ["r3/fetch"])
            #expect(try await engine.field("r3/build", "cached") == "r1/build")
        }
    }

    @Test func aKeyWithoutTheHandlerIsSharedAndAnExpiredSourceIsNotUsed() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([try Self.task("a", cacheKey: "shared")])
            try await engine.drain(result: Self.result)
            var late = try Self.task("b", cacheKey: "shared")
            late.handler = "other"
            #expect(try await engine.coordinator.tasks.submit([late]).tasks.first?.state == .done)
            #expect(try await engine.field("b", "cached") == "a")
            // The producer's record is gone (retention): the index entry is not trusted.
            _ = try await engine.redis.send("DEL", RedisArgument(engine.keys.task("a")))
            #expect(try await engine.coordinator.tasks.submit([try Self.task("c", cacheKey: "shared")]).tasks.first?.state == .pending)
            #expect(try await engine.drain(result: Self.result) == ["c"])
        }
    }

    @Test func aRetriedTaskIsDecidedFromTheCacheWhenItBecomesReadyAgain() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([try Self.task("x", cacheKey: "k")])
            let first = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            _ = try await engine.coordinator.leases.fail([Failure(lease: first[0].lease, mode: .final, reason: "error", message: "down")])
            // Meanwhile another task with the same key succeeded.
            _ = try await engine.coordinator.tasks.submit([try Self.task("y", cacheKey: "k")])
            #expect(try await engine.drain(result: Self.result) == ["y"])
            _ = try await engine.coordinator.tasks.retry(task: "x")
            #expect(try await engine.state("x") == .done)
            #expect(try await engine.field("x", "cached") == "y")
            #expect(try await engine.drain().isEmpty)
        }
    }

    /// fetch fails; report (`always`) and publish run; other and tail are independent.
    static func failedRun(_ engine: EngineFixture) async throws {
        _ = try await engine.coordinator.tasks.submit([
            try task("fetch"), try task("report", after: [Prerequisite("fetch", policy: .always)]),
            try task("publish", after: [Prerequisite("report")]), try task("other"), try task("tail", after: [Prerequisite("other")]),
        ], run: RunOptions(id: "o", definition: "d"))
        let first = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
        #expect(first.map(\.id) == ["o/fetch"])
        _ = try await engine.coordinator.leases.fail([Failure(lease: first[0].lease, mode: .final, reason: "error", message: "down")])
        try await engine.drain()
        #expect(try #require(try await engine.coordinator.tasks.run("o")).state == .failed)
    }

    @Test func aPrerequisiteThatEndsAgainMakesItsDoneDependentsOutdated() async throws {
        try await withEngine { engine in
            try await Self.failedRun(engine)
            #expect(try await engine.coordinator.tasks.task("o/report")?.outdated == false)
            _ = try await engine.coordinator.tasks.retry(task: "o/fetch")
            #expect(try await engine.drain() == ["o/fetch"])
            let outdated = try await engine.coordinator.tasks.tasks(["o/fetch", "o/report", "o/publish", "o/other", "o/tail"]).map { $0?.outdated }
            #expect(outdated == [false, true, false, false, false], "only the direct DONE dependent of what ended again")
            #expect(try #require(try await engine.coordinator.tasks.run("o")).state == .done)
        }
    }

    @Test func rerunOutdatedReRunsExactlyTheOutdatedTasksAndTheirDependents() async throws {
        try await withEngine { engine in
            try await Self.failedRun(engine)
            _ = try await engine.coordinator.tasks.retry(task: "o/fetch")
            try await engine.drain()
            let untouched = try await engine.keySnapshot()
            let before = try await engine.coordinator.tasks.tasks(["o/fetch", "o/other", "o/tail"]).map { $0?.finished }
            // report's attempt that made it DONE is in its record only (no stored entry)
            let firstLife = try await engine.coordinator.tasks.attempts(of: "o/report")
            #expect(firstLife.attempts.map(\.outcome) == [.done])
            #expect(try await engine.list(engine.keys.attempts("o/report")) == [])

            let reopened = try await engine.coordinator.tasks.rerunOutdated(run: "o")
            #expect(Set(reopened) == ["o/report", "o/publish"])
            // the rerun reset the record: that attempt was stored first, as the read showed it
            #expect(try await engine.coordinator.tasks.attempts(of: "o/report") == firstLife)
            #expect(try await engine.list(engine.keys.attempts("o/report")).count == 1)
            #expect(untouched.count > 0)
            #expect(try #require(try await engine.coordinator.tasks.run("o")).state == .running)
            #expect(try await engine.events(of: "o/report").suffix(1) == ["DONE>PENDING:rerun"])
            #expect(try await engine.field("o/publish", "deps_left") == "1", "publish waits for report's new result")
            // Top-down: report first, then publish; nothing else runs again. (The test clock
            // moves on: an attempt is told from an earlier life's by its start.)
            engine.clock.advance(by: .milliseconds(5))
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
            #expect(claimed.map(\.id) == ["o/report"])
            _ = try await engine.coordinator.leases.complete(claimed.map { Completion(lease: $0.lease, result: Array("2".utf8)) })
            #expect(try await engine.drain() == ["o/publish"])
            #expect(try await engine.coordinator.tasks.tasks(["o/fetch", "o/other", "o/tail"]).map { $0?.finished } == before)
            #expect(try await engine.coordinator.tasks.task("o/report")?.outdated == false)
            // both lives' successful attempts are in the history, the second read from the record
            let history = try await engine.coordinator.tasks.attempts(of: "o/report")
            #expect(history.attempts.map(\.outcome) == [.done, .done])
            #expect(history.attempts.first == firstLife.attempts.first)
            #expect(history.attempts.last?.started != firstLife.attempts.first?.started)
            #expect(try #require(try await engine.coordinator.tasks.run("o")).state == .done)
            // Nothing is outdated any more: a second call re-opens nothing and leaves no key behind.
            let settled = try await engine.keySnapshot()
            #expect(try await engine.coordinator.tasks.rerunOutdated(run: "o").isEmpty)
            #expect(try await engine.keySnapshot() == settled)
        }
    }

    @Test func rerunOutdatedIsBoundedAcrossCalls() async throws {
        try await withEngine { engine in
            // fetch -> hub (always) -> 300 leaves: more than one call's budget.
            var specs = [try Self.task("fetch"), try Self.task("hub", after: [Prerequisite("fetch", policy: .always)])]
            for n in 0..<300 { specs.append(try Self.task("leaf\(n)", after: [Prerequisite("hub")])) }
            _ = try await engine.coordinator.tasks.submit(specs, run: RunOptions(id: "big", definition: "d"))
            let first = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            _ = try await engine.coordinator.leases.fail([Failure(lease: first[0].lease, mode: .final, reason: "error", message: "down")])
            try await engine.drain(batch: 500)
            _ = try await engine.coordinator.tasks.retry(task: "big/fetch")
            try await engine.drain()
            let step = try await engine.coordinator.runner.run(RerunOutdatedCall(run: "big", step: .start))
            #expect(step.status == .more, "one call does a bounded part")
            #expect(try await engine.readyList().isEmpty, "nothing is dispatched before the whole set is re-opened")
            var ids = step.reopened
            ids += try await engine.coordinator.tasks.rerunOutdated(run: "big")
            #expect(Set(ids).count == 301 && !ids.contains("big/fetch"))
            let order = try await engine.drain(batch: 500)
            #expect(order.first == "big/hub" && order.count == 301)
        }
    }

    @Test func rerunOutdatedRefusesARunThatHasNotEndedOrDoesNotExist() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([try Self.task("a")], run: RunOptions(id: "live", definition: "d"))
            let before = try await engine.keySnapshot()
            let running = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.rerunOutdated(run: "live") }
            #expect(running?.code == .invalidState)
            let missing = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.rerunOutdated(run: "nope") }
            #expect(missing?.code == .notFound)
            #expect(try await engine.keySnapshot() == before)
        }
    }

    @Test func badCacheKeysAreRefusedAndNothingIsWritten() async throws {
        try await withEngine { engine in
            let before = try await engine.keySnapshot()
            // {result:X} naming a task that is not a prerequisite (built in Swift, past the parser).
            let stray = TaskSpec(id: "t", handler: "h", prerequisites: [Prerequisite("a")], cacheKey: try CacheKey("{result:zz}"))
            let error = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.submit([try Self.task("a"), stray]) }
            #expect(error?.code == .invalidCacheKey)
            #expect(try await engine.keySnapshot() == before)
        }
    }
}

/// The cost of `rerun --outdated` per script call on a fan-out of 5,000 (prints figures; run with
/// JOBQ_MEASURE=1 swift test --skip-build --filter RerunOutdatedCost).
@Suite("rerun --outdated cost", .enabled(if: redisAvailable && ProcessInfo.processInfo.environment["JOBQ_MEASURE"] != nil))
struct RerunOutdatedCost {
    @Test func perCallCostOfAFanOutOf5000() async throws {
        try await withEngine { engine in
            var specs = [TaskSpec(id: "fetch", handler: "h", maxAttempts: 1), TaskSpec(id: "hub", handler: "h", prerequisites: [Prerequisite("fetch", policy: .always)], maxAttempts: 1)]
            for n in 0..<5000 { specs.append(TaskSpec(id: "leaf\(n)", handler: "h", prerequisites: [Prerequisite("hub")], maxAttempts: 1, cacheKey: try CacheKey("{handler}:{result:hub}:\(n)"))) }
            _ = try await engine.coordinator.tasks.submit(specs, run: RunOptions(id: "big", definition: "d"))
            let first = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            _ = try await engine.coordinator.leases.fail([Failure(lease: first[0].lease, mode: .final, reason: "error", message: "down")])
            try await engine.drain(batch: 500)
            _ = try await engine.coordinator.tasks.retry(task: "big/fetch")
            try await engine.drain()
            var step = ContinuationStep.start
            var calls = 0, total = 0.0, worst = 0.0, ids = 0
            while true {
                let t0 = ContinuousClock.now
                let reply = try await engine.coordinator.runner.run(RerunOutdatedCall(run: "big", step: step))
                let d = ContinuousClock.now - t0
                let ms = Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000
                calls += 1; total += ms; worst = max(worst, ms)
                ids += reply.reopened.count
                step = .next
                if reply.status == .done { break }
            }
            print("MEASURE rerun --outdated of 5001 tasks: \(calls) calls, total \(total) ms, worst call \(worst) ms")
            let t0 = ContinuousClock.now
            let order = try await engine.drain(batch: 500)
            print("MEASURE re-drain \(order.count) tasks in \(ContinuousClock.now - t0)")
            #expect(ids == 5001 && order.count == 5001)
        }
    }
}
