import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqCore

/// Uniqueness, debounce and throttle by key through the scripts: a held key answers a second
/// submit with its holder, and frees exactly at the transition (or time) that ends its scope.
@Suite("uniqueness: unique keys, debounce, throttle", .enabled(if: redisAvailable))
struct UniquenessScriptTests {
    static func unique(_ id: String?, account: String = "7", _ mode: Uniqueness.Mode, maxAttempts: Int = 3, payload: String? = nil) -> TaskSpec {
        var task = spec(id ?? "", maxAttempts: maxAttempts, payload: payload ?? "{\"account\":\"\(account)\"}")
        task.id = id
        task.uniqueness = Uniqueness(key: "sync-{payload.account}", mode: mode)
        return task
    }

    static func submit(_ engine: EngineFixture, _ task: TaskSpec) async throws -> SubmitResult {
        try await engine.coordinator.tasks.submit([task])
    }

    static func claim(_ engine: EngineFixture) async throws -> [ClaimedTask] {
        try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
    }

    /// The id the lock names, or nil.
    static func holder(_ engine: EngineFixture, _ key: String) async throws -> String? {
        try await engine.redis.send("GET", RedisArgument(key)).decodeOptionalString()?.split(separator: " ").first.map(String.init)
    }

    @Test func aHeldKeyReturnsTheExistingTaskAndFreesWhenItStarts() async throws {
        try await withEngine { engine in
            let first = try await Self.submit(engine, Self.unique("a", .untilStarted))
            #expect(first.created && first.outcome == .created)
            #expect(try await engine.field("a", "unique") == "started 0 sync-7")
            #expect(try await Self.holder(engine, engine.keys.unique("sync-7")) == "a")
            // the same key from another payload field value is another key
            #expect(try await Self.submit(engine, Self.unique("other", account: "8", .untilStarted)).created)
            // a second submit with the key gets a back; its own (explicit) id is not created
            let second = try await Self.submit(engine, Self.unique("b", .untilStarted))
            #expect(!second.created && second.outcome == .deduplicated)
            #expect(second.tasks == [SubmittedTask(id: "a", state: .pending)])
            #expect(try await engine.state("b") == nil)
            #expect(try await engine.events(of: "a").last == "PENDING>PENDING:deduplicated")
            // a generated id too
            #expect(try await Self.submit(engine, Self.unique(nil, .untilStarted)).tasks.map(\.id) == ["a"])

            _ = try await Self.claim(engine) // a and other start: the scope ends
            #expect(try await Self.holder(engine, engine.keys.unique("sync-7")) == nil)
            let third = try await Self.submit(engine, Self.unique("c", .untilStarted))
            #expect(third.created && third.tasks.map(\.id) == ["c"])
        }
    }

    enum Ending: String, CaseIterable, Sendable {
        case done, failedForGood, cancelledPending, cancelledRunning, expired, reapedThenDone
    }

    /// until_finished: the key is held while the task is pending or running (a retry included)
    /// and frees at each way it can end, whichever script ends it.
    @Test(arguments: Ending.allCases)
    func untilFinishedFreesAtEachEnding(ending: Ending) async throws {
        try await withEngine { engine in
            var task = Self.unique("a", .untilFinished, maxAttempts: ending == .done ? 2 : 1)
            if ending == .expired { task.expires = .after(.seconds(60)) }
            _ = try await Self.submit(engine, task)
            let lock = engine.keys.unique("sync-7")
            func stillHeld(_ why: String) async throws {
                #expect(try await Self.holder(engine, lock) == "a", "\(why)")
                #expect(try await Self.submit(engine, Self.unique("dup", .untilFinished)).tasks.map(\.id) == ["a"], "\(why)")
            }
            try await stillHeld("pending")
            switch ending {
            case .done:
                var claimed = try await Self.claim(engine)
                try await stillHeld("running")
                // a failure with a retry left: still held while it waits for the retry
                #expect(try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .retry(delay: .zero), reason: "error", message: "")]) == [.retrying])
                try await stillHeld("waiting for its retry")
                claimed = try await Self.claim(engine)
                _ = try await engine.coordinator.leases.complete([Completion(lease: claimed[0].lease, result: Array("1".utf8))])
                #expect(try await engine.state("a") == .done)
            case .failedForGood:
                let claimed = try await Self.claim(engine)
                #expect(try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .final, reason: "error", message: "")]) == [.failed])
            case .cancelledPending:
                _ = try await engine.coordinator.tasks.cancel(task: "a")
            case .cancelledRunning:
                let claimed = try await Self.claim(engine)
                _ = try await engine.coordinator.tasks.cancel(task: "a")
                try await stillHeld("cancel requested, its handler still running")
                _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .cancelled, reason: "cancelled", message: "")])
            case .expired:
                engine.clock.advance(by: .seconds(61))
                _ = try await engine.coordinator.maintenance.promote()
            case .reapedThenDone:
                _ = try await Self.claim(engine)
                engine.clock.advance(by: .seconds(31)) // the lease ran out: taken back (a worker death)
                _ = try await engine.coordinator.maintenance.reap()
                #expect(try await engine.state("a") == .pending)
                try await stillHeld("taken back from a dead worker")
                try await engine.drain()
            }
            #expect(try await engine.state("a").map(\.isTerminal) == true, "\(ending)")
            #expect(try await Self.holder(engine, lock) == nil, "\(ending): the key outlived its task")
            let next = try await Self.submit(engine, Self.unique("b", .untilFinished))
            #expect(next.created && next.tasks.map(\.id) == ["b"])
        }
    }

    @Test func forADurationIsHeldUntilTheTaskEndsButNoLonger() async throws {
        try await withEngine { engine in
            _ = try await Self.submit(engine, Self.unique("a", .for(.seconds(60))))
            _ = try await Self.claim(engine)
            engine.clock.advance(by: .seconds(59))
            #expect(try await Self.submit(engine, Self.unique("b", .for(.seconds(60)))).tasks.map(\.id) == ["a"])
            engine.clock.advance(by: .seconds(1)) // a still runs, but the bound has passed
            let late = try await Self.submit(engine, Self.unique("b", .for(.seconds(60))))
            #expect(late.created && late.tasks.map(\.id) == ["b"])
            // b ends at once: freed before its bound
            _ = try await engine.coordinator.tasks.cancel(task: "b")
            #expect(try await Self.submit(engine, Self.unique("c", .for(.seconds(60)))).created)
        }
    }

    @Test func debounceKeepsTheNewestPayloadAndPushesTheStartBack() async throws {
        try await withEngine { engine in
            let first = try await Self.submit(engine, Self.unique("a", .debounce(.seconds(30)), payload: #"{"account":"7","n":1}"#))
            #expect(first.created)
            let start = engine.clock.now
            #expect(try await engine.field("a", "run_after") == String(start + 30_000))
            engine.clock.advance(by: .seconds(20))
            let second = try await Self.submit(engine, Self.unique("b", .debounce(.seconds(30)), payload: #"{"account":"7","n":2}"#))
            #expect(second.outcome == .debounced && second.tasks.map(\.id) == ["a"])
            #expect(try await engine.state("b") == nil)
            #expect(try await engine.field("a", "payload") == #"{"account":"7","n":2}"#)
            #expect(try await engine.field("a", "run_after") == String(start + 50_000))
            #expect(try await engine.events(of: "a").last == "PENDING>PENDING:debounced")
            // the first quiet time has passed, the second not: nothing is due
            engine.clock.advance(by: .seconds(15))
            _ = try await engine.coordinator.maintenance.promote()
            #expect(try await Self.claim(engine).isEmpty)
            engine.clock.advance(by: .seconds(15))
            _ = try await engine.coordinator.maintenance.promote()
            let claimed = try await Self.claim(engine)
            #expect(claimed.map(\.id) == ["a"])
            #expect(claimed.first?.payload == Array(#"{"account":"7","n":2}"#.utf8))
            // started: the next submit waits out a quiet time of its own
            let third = try await Self.submit(engine, Self.unique("c", .debounce(.seconds(30))))
            #expect(third.created && third.tasks.map(\.id) == ["c"])
        }
    }

    @Test func aDebounceWhoseTaskIsAlreadyQueuedStartsANewOne() async throws {
        try await withEngine { engine in
            _ = try await Self.submit(engine, Self.unique("a", .debounce(.seconds(1))))
            engine.clock.advance(by: .seconds(1))
            _ = try await engine.coordinator.maintenance.promote() // queued: its quiet time is over
            let next = try await Self.submit(engine, Self.unique("b", .debounce(.seconds(1))))
            #expect(next.created && next.tasks.map(\.id) == ["b"])
            #expect(try await Self.holder(engine, engine.keys.debounce("sync-7")) == "b")
            // a starting now leaves b's lock alone (compare-and-delete)
            #expect(try await Self.claim(engine).map(\.id) == ["a"])
            #expect(try await Self.holder(engine, engine.keys.debounce("sync-7")) == "b")
        }
    }

    @Test func throttleAllowsOnePerIntervalWhateverTheTaskDoes() async throws {
        try await withEngine { engine in
            #expect(try await Self.submit(engine, Self.unique("a", .throttle(.seconds(60)))).created)
            try await engine.drain() // a is DONE: the interval still holds
            let inside = try await Self.submit(engine, Self.unique("b", .throttle(.seconds(60))))
            #expect(inside.outcome == .throttled && inside.tasks == [SubmittedTask(id: "a", state: .done)])
            #expect(try await engine.events(of: "a").last == "DONE>DONE:throttled")
            engine.clock.advance(by: .seconds(60))
            let next = try await Self.submit(engine, Self.unique("c", .throttle(.seconds(60))))
            #expect(next.created && next.tasks.map(\.id) == ["c"])
            // one per interval over several intervals: exactly the first submit of each
            var created: [String] = ["c"]
            for step in 0..<12 {
                engine.clock.advance(by: .seconds(15))
                let result = try await Self.submit(engine, Self.unique("t\(step)", .throttle(.seconds(60))))
                if result.created { created += result.tasks.map(\.id) }
            }
            #expect(created == ["c", "t3", "t7", "t11"])
        }
    }

    @Test func aRunOrSeveralTasksWithAHeldKeyAreRefusedWhole() async throws {
        try await withEngine { engine in
            _ = try await Self.submit(engine, Self.unique("a", .untilFinished))
            let before = try await engine.keySnapshot()
            let several = await #expect(throws: JobqError.self) {
                _ = try await engine.coordinator.tasks.submit([spec("x"), Self.unique("y", .untilFinished)])
            }
            #expect(several?.code == .uniqueHeld && several?.subject == "a" && several?.message.contains("sync-7") == true)
            let run = await #expect(throws: JobqError.self) {
                _ = try await engine.coordinator.tasks.submit([Self.unique("y", .untilFinished)], run: RunOptions(definition: "sync"))
            }
            #expect(run?.code == .uniqueHeld)
            #expect(try await engine.keySnapshot() == before)
            // free: a run with a unique task takes the key as any task does
            try await engine.drain()
            let created = try await engine.coordinator.tasks.submit([Self.unique("y", .untilFinished)], run: RunOptions(id: "r1", definition: "sync"))
            #expect(created.created && created.tasks.map(\.id) == ["r1/y"])
            #expect(try await Self.holder(engine, engine.keys.unique("sync-7")) == "r1/y")
        }
    }

    @Test func manyProducersAtOnceCreateExactlyOneTask() async throws {
        try await withEngine { engine in
            let server = try await RedisServerFixture.shared()
            let producers = 6, perProducer = 20
            // the fixture's namespace, from its key prefix `jobq:{NS}:`
            let namespace = String(engine.keys.prefix.split(separator: "{")[1].split(separator: "}")[0])
            var ids: [String] = []
            try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<producers {
                    group.addTask {
                        let client = server.makeClient()
                        let store = try Coordinator(redis: client, namespace: namespace, clock: .manual(engine.clock))
                        var seen: [String] = []
                        for _ in 0..<perProducer {
                            seen += try await store.tasks.submit([Self.unique(nil, .untilFinished)]).tasks.map(\.id)
                        }
                        await client.close()
                        return seen
                    }
                }
                for try await seen in group { ids += seen }
            }
            #expect(ids.count == producers * perProducer)
            #expect(Set(ids).count == 1, "one task for every submit")
            let records = try await engine.keySnapshot().keys.filter { $0.hasPrefix(engine.keys.task("")) && !$0.dropFirst(engine.keys.task("").count).contains(":") }
            #expect(records.count == 1)
        }
    }

    @Test func badUniquenessIsRefusedWithNothingWritten() async throws {
        try await withEngine { engine in
            let before = try await engine.keySnapshot()
            let cases: [(String, TaskSpec)] = [
                ("zero throttle", Self.unique("a", .throttle(.zero))),
                ("negative for", Self.unique("a", .for(.seconds(-5)))),
                ("zero debounce", Self.unique("a", .debounce(.zero))),
                ("a key naming a missing field", { var t = Self.unique("a", .untilStarted); t.uniqueness?.key = "sync-{payload.tenant}"; return t }()),
                ("a debounce after a prerequisite", { var t = Self.unique("a", .debounce(.seconds(1))); t.prerequisites = [Prerequisite("p")]; return t }()),
                ("a debounce with a delay of its own", { var t = Self.unique("a", .debounce(.seconds(1))); t.delay = .seconds(5); return t }()),
            ]
            for (what, task) in cases {
                let error = await #expect(throws: JobqError.self, "\(what)") { _ = try await engine.coordinator.tasks.submit([task]) }
                #expect(error?.code == .invalidOption, "\(what): \(error?.message ?? "")")
            }
            let twice = await #expect(throws: JobqError.self) {
                _ = try await engine.coordinator.tasks.submit([Self.unique("a", .untilStarted), Self.unique("b", .untilFinished)])
            }
            #expect(twice?.code == .invalidOption && twice?.message.contains("same unique key") == true)
            let debounceInBatch = await #expect(throws: JobqError.self) {
                _ = try await engine.coordinator.tasks.submit([spec("x"), Self.unique("b", .debounce(.seconds(1)))])
            }
            #expect(debounceInBatch?.code == .invalidOption)
            #expect(try await engine.keySnapshot() == before)
        }
    }

    @Test func theInterfacesSpellingsAreParsedAndRefusedWithStableCodes() throws {
        let spelling = Uniqueness.Spelling.cli
        #expect(try Uniqueness.parse(key: "k", scope: "until_started", debounce: nil, throttle: nil, spelling: spelling)?.mode == .untilStarted)
        #expect(try Uniqueness.parse(key: "k", scope: "until_finished", debounce: nil, throttle: nil, spelling: spelling)?.mode == .untilFinished)
        #expect(try Uniqueness.parse(key: "k", scope: "for 10m", debounce: nil, throttle: nil, spelling: spelling)?.mode == .for(.seconds(600)))
        #expect(try Uniqueness.parse(key: "k", scope: "10m", debounce: nil, throttle: nil, spelling: spelling)?.mode == .for(.seconds(600)))
        #expect(try Uniqueness.parse(key: "k", scope: nil, debounce: "30s", throttle: nil, spelling: spelling)?.mode == .debounce(.seconds(30)))
        #expect(try Uniqueness.parse(key: nil, scope: nil, debounce: nil, throttle: nil, spelling: spelling) == nil)
        let refused: [(String?, String?, String?, String?, String)] = [
            ("k", "until_done", nil, nil, "not a scope"),
            ("k", "-5m", nil, nil, "cannot be negative"),
            ("k", nil, nil, "-1m", "cannot be negative"),
            (nil, nil, "30s", nil, "needs --unique-key"),
            ("k", nil, nil, nil, "needs a scope"),
            ("k", "until_started", "30s", nil, "different modes"),
            ("k", nil, "30s", "1m", "different modes"),
        ]
        for (key, scope, debounce, throttle, words) in refused {
            let error = #expect(throws: JobqError.self) { _ = try Uniqueness.parse(key: key, scope: scope, debounce: debounce, throttle: throttle, spelling: spelling) }
            #expect(error?.code == .invalidOption && error?.message.contains(words) == true, "\(error?.message ?? "")")
        }
        #expect(Uniqueness.parseRecord("finished 600000 sync-7")?.mode == "for 10m")
        #expect(Uniqueness.parseRecord("started 0 sync-7")?.key == "sync-7")
    }
}
