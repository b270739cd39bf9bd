import JobqRedis
import Testing

@testable import JobqCore

/// Every kind of bad input gets a stable error code and writes nothing to Redis.
@Suite("bad input", .enabled(if: redisAvailable))
struct BadInputTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let name: String
        let tasks: [TaskSpec]
        let code: JobqError.Code
        var workflow: String? = nil
        var idempotencyKey: String? = nil
        var testDescription: String { name }
    }

    static func task(_ id: String? = "t", handler: String = "h", queue: String = "default", payload: String = "{}",
                     after: [String] = [], attempts: Int = 3, timeout: Duration = .seconds(30)) -> TaskSpec {
        TaskSpec(id: id, handler: handler, queue: queue, payload: Array(payload.utf8),
                 prerequisites: after.map { Prerequisite($0) }, maxAttempts: attempts, timeout: timeout)
    }

    static let rows: [Row] = {
        var rows: [Row] = [
            Row(name: "payload: not JSON", tasks: [task(payload: "hello")], code: .invalidPayload),
            Row(name: "payload: truncated", tasks: [task(payload: #"{"a": [1, 2"#)], code: .invalidPayload),
            Row(name: "payload: trailing comma", tasks: [task(payload: "[1,]")], code: .invalidPayload),
            Row(name: "payload: two values", tasks: [task(payload: "{} {}")], code: .invalidPayload),
            Row(name: "payload: empty", tasks: [task(payload: "")], code: .invalidPayload),
            Row(name: "payload: single quotes", tasks: [task(payload: "{'a':1}")], code: .invalidPayload),
            Row(name: "payload: over the limit", tasks: [task(payload: "\"" + String(repeating: "x", count: 1 << 20) + "\"")], code: .payloadTooLarge),
            Row(name: "payload: nested 10,000 deep", tasks: [task(payload: String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))], code: .invalidPayload),
            Row(name: "cycle: self-loop", tasks: [task("a", after: ["a"])], code: .cycle),
            Row(name: "cycle: two tasks", tasks: [task("a", after: ["b"]), task("b", after: ["a"])], code: .cycle),
            Row(name: "cycle: 1,000 tasks", tasks: (0..<1000).map { task("n\($0)", after: ["n\(($0 + 1) % 1000)"]) }, code: .cycle),
            Row(name: "prerequisite: unknown", tasks: [task("a", after: ["ghost"])], code: .unknownDependency),
            Row(name: "prerequisite: duplicate", tasks: [task("a"), task("b", after: ["a", "a"])], code: .duplicatePrerequisite),
            Row(name: "prerequisite: too many", tasks: [task("b", after: (0..<10_001).map { "p\($0)" })], code: .tooManyPrerequisites),
            Row(name: "id: duplicate in one submission", tasks: [task("a"), task("a")], code: .duplicateID),
            Row(name: "max attempts: zero", tasks: [task(attempts: 0)], code: .invalidOption),
            Row(name: "max attempts: negative", tasks: [task(attempts: -3)], code: .invalidOption),
            Row(name: "max attempts: huge", tasks: [task(attempts: Int.max)], code: .invalidOption),
            Row(name: "timeout: zero", tasks: [task(timeout: .zero)], code: .invalidOption),
            Row(name: "timeout: negative", tasks: [task(timeout: .seconds(-1))], code: .invalidOption),
            Row(name: "timeout: huge", tasks: [task(timeout: .seconds(Int64.max))], code: .invalidOption),
            Row(name: "workflow id: colon", tasks: [task()], code: .invalidName, workflow: "wf:1"),
            Row(name: "idempotency key: space", tasks: [task()], code: .invalidName, idempotencyKey: "a key"),
        ]
        let badNames = [("space", "a b"), ("colon", "a:b"), ("brace", "{a}"), ("newline", "a\nb"), ("control", "a\u{7}b"),
                        ("non-ASCII", "tâche"), ("empty", ""), ("over-long", String(repeating: "x", count: 129)),
                        ("NUL", "a\u{0}b"), ("slash", "../etc/x")]
        for (what, name) in badNames {
            rows.append(Row(name: "id: \(what)", tasks: [task(name)], code: .invalidName))
            rows.append(Row(name: "queue: \(what)", tasks: [task(queue: name)], code: .invalidName))
            rows.append(Row(name: "handler: \(what)", tasks: [task(handler: name)], code: .invalidName))
            rows.append(Row(name: "prerequisite id: \(what)", tasks: [task("a", after: [name])], code: .invalidName))
        }
        // RUN/TASK prerequisites: the scoped form is accepted as a name, and must exist.
        rows.append(Row(name: "prerequisite id: RUN/TASK that does not exist", tasks: [task("a", after: ["nightly/fetch"])], code: .unknownDependency))
        rows.append(Row(name: "prerequisite id: RUN/ with an empty task", tasks: [task("a", after: ["nightly/"])], code: .invalidName))
        return rows
    }()

    @Test(arguments: rows)
    func rejectedWithAStableCodeAndNothingWritten(row: Row) async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("existing")])
            let before = try await engine.keySnapshot()
            let error = await #expect(throws: JobqError.self) {
                _ = try await engine.coordinator.tasks.submit(row.tasks, workflow: row.workflow, idempotencyKey: row.idempotencyKey)
            }
            #expect(error?.code == row.code, "\(row.name): \(String(describing: error))")
            #expect(error?.message.isEmpty == false)
            #expect(try await engine.keySnapshot() == before, "\(row.name) wrote to Redis")
        }
    }

    @Test func duplicateOfAnExistingIDIsRejected() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let before = try await engine.keySnapshot()
            let error = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.submit([spec("b"), spec("a")]) }
            #expect(error?.code == .duplicateID)
            #expect(try await engine.keySnapshot() == before)
        }
    }

    /// Text that looks like shell, Lua or RESP is data: stored and handed out byte for byte.
    @Test(arguments: [
        #""$(rm -rf /); `reboot`; echo $HOME | sh""#,
        #""redis.call('FLUSHALL') end; return 1 --""#,
        #""*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n""#,
        #"{"lua":"]]--[[","nul":"\u0000","crlf":"\r\n","tab":"\t","quote":"\"","emoji":"😀"}"#,
    ])
    func hostilePayloadIsStoredVerbatim(payload: String) async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", payload: payload)])
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(5), worker: "w")
            #expect(claimed.first?.payload == Array(payload.utf8))
            _ = try await engine.coordinator.leases.complete([Completion(lease: claimed[0].lease, result: Array(payload.utf8))])
            #expect(try await engine.coordinator.tasks.task("a")?.result == Array(payload.utf8))
            #expect(try await engine.redis.send("DBSIZE").decodeInt() > 0)
        }
    }

    @Test func cancelOfUnknownTerminalOrCancelledTasks() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b")])
            _ = try await engine.coordinator.tasks.cancel(task: "a")
            try await engine.drain()
            let before = try await engine.keySnapshot()
            for (id, code) in [("ghost", JobqError.Code.notFound), ("a", .invalidState), ("b", .invalidState), ("bad id", .invalidName)] {
                let error = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.tasks.cancel(task: id) }
                #expect(error?.code == code, "cancel \(id)")
            }
            #expect(try await engine.keySnapshot() == before)
        }
    }

    /// Records damaged by hand are failed with reason corrupt_record, never run, and the rest
    /// of the queue keeps flowing.
    @Test func corruptRecordsAreFailedAndEverythingElseFlows() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("good1"), spec("badstate"), spec("badspec"), spec("child", after: ["badspec"]), spec("good2")])
            try await engine.redis.send("HSET", RedisArgument(engine.keys.task("badstate")), "state", "EXPLODED").throwIfError()
            try await engine.redis.send("HSET", RedisArgument(engine.keys.task("badspec")), "spec", "garbage").throwIfError()
            try await engine.redis.send("LPUSH", RedisArgument(engine.keys.ready("default")), "orphan").throwIfError()
            let ran = try await engine.drain(batch: 2)
            #expect(Set(ran) == ["good1", "good2"])
            #expect(try await engine.state("badstate") == .failed)
            #expect(try await engine.field("badstate", "reason") == "corrupt_record")
            #expect(try await engine.state("badspec") == .failed)
            #expect(try await engine.field("badspec", "reason") == "corrupt_record")
            #expect(try await engine.state("child") == .cancelled)
            #expect(try await engine.readyList().isEmpty)
            #expect(try await engine.redis.send("EXISTS", RedisArgument(engine.keys.task("orphan"))).decodeInt() == 0)
        }
    }
}

/// The scripts check what Swift already checked, for clients that bypass the Swift layer.
@Suite("bad input reaching the scripts directly", .enabled(if: redisAvailable))
struct ScriptArgumentTests {
    static func submitArguments(
        id: String, queue: String = "default", handler: String = "h", policy: String = "success", dependency: String? = nil, cond: String = "", cacheKey: String = "",
        expires: String = "", maxSnoozes: String = "", climit: String = "", waitFor: String = "", unique: String = "", priority: String = "", trace: String = "", rlimit: String = "", delayMs: Int = 0, run: String = "", definition: String = "", options: [(String, String)] = []
    ) -> [RedisArgument] {
        var arguments: [RedisArgument] = ["", "", RedisArgument(run), 0, RedisArgument(definition), RedisArgument(options.count)]
        for (field, value) in options { arguments += [RedisArgument(field), RedisArgument(value)] }
        arguments += [1, RedisArgument(id), RedisArgument(handler), RedisArgument(queue), "{}", 1, 1000, "{}", RedisArgument(delayMs), 1000, "", RedisArgument(cond), RedisArgument(cacheKey), RedisArgument(expires), RedisArgument(maxSnoozes), RedisArgument(climit), RedisArgument(waitFor), RedisArgument(unique), RedisArgument(priority), RedisArgument(trace), RedisArgument(rlimit)]
        if let dependency {
            arguments += [1, RedisArgument(dependency), RedisArgument(policy)]
        } else {
            arguments += [0]
        }
        return arguments
    }

    @Test(arguments: [
        ("id with a colon", submitArguments(id: "a:b")),
        ("queue with a brace", submitArguments(id: "a", queue: "q}")),
        ("handler with a space", submitArguments(id: "a", handler: "h h")),
        ("unknown edge policy", submitArguments(id: "b", policy: "sometimes", dependency: "a")),
        ("precondition that is not JSON", submitArguments(id: "b", dependency: "a", cond: "{mode")),
        ("precondition with an unknown mode", submitArguments(id: "b", dependency: "a", cond: #"{"mode":"maybe","tests":[{"task":"a","path":[],"op":"eq","value":1}]}"#)),
        ("precondition on a task that is not a prerequisite", submitArguments(id: "b", dependency: "a", cond: #"{"mode":"skip_if","tests":[{"task":"zz","path":[],"op":"eq","value":1}]}"#)),
        ("precondition without a prerequisite at all", submitArguments(id: "b", cond: #"{"mode":"skip_if","tests":[{"task":"a","path":[],"op":"eq","value":1}]}"#)),
        ("precondition with an unknown operator", submitArguments(id: "b", dependency: "a", cond: #"{"mode":"run_if","tests":[{"task":"a","path":[],"op":"like","value":1}]}"#)),
        ("cache key that does not parse", submitArguments(id: "b", dependency: "a", cacheKey: "x{payload")),
        ("cache key with an unknown placeholder", submitArguments(id: "b", dependency: "a", cacheKey: "{when}")),
        ("cache key on a result that is not a prerequisite", submitArguments(id: "b", dependency: "a", cacheKey: "{result:zz}")),
        ("an expiry that is not a time", submitArguments(id: "b", expires: "soon")),
        ("an expiry in fractions of a millisecond", submitArguments(id: "b", expires: "+1.5")),
        ("a run's task whose id does not carry the run", submitArguments(id: "a2", run: "r1", definition: "d")),
        ("a run's task under another run", submitArguments(id: "r2/a", run: "r1", definition: "d")),
        ("a run without an id", submitArguments(id: "/a", definition: "d")),
        ("run options without a run", submitArguments(id: "b", options: [("window", "2")])),
        ("an unknown run option", submitArguments(id: "r1/a", run: "r1", definition: "d", options: [("colour", "red")])),
        ("max snoozes that is not a number", submitArguments(id: "b", maxSnoozes: "lots")),
        ("a wait_for with a bad name", submitArguments(id: "b", waitFor: "a:b/0/fail")),
        ("a wait_for with an unknown timeout action", submitArguments(id: "b", waitFor: "go/10/retry")),
        ("a unique key of an unknown mode", submitArguments(id: "b", unique: "sometimes 0 k")),
        ("a unique key that is not a name", submitArguments(id: "b", unique: "finished 0 a:b")),
        ("a throttle of 0 ms", submitArguments(id: "b", unique: "throttle 0 k")),
        ("until_started with a duration", submitArguments(id: "b", unique: "started 5 k")),
        ("a debounce whose delay is not its quiet time", submitArguments(id: "b", unique: "debounce 500 k", delayMs: 100)),
        ("a debounce with a prerequisite", submitArguments(id: "b", dependency: "a", unique: "debounce 500 k", delayMs: 500)),
        ("a debounce in a run", submitArguments(id: "r1/b", unique: "debounce 500 k", delayMs: 500, run: "r1", definition: "d")),
        ("a priority above the range", submitArguments(id: "b", priority: "101")),
        ("a priority below the range", submitArguments(id: "b", priority: "-101")),
        ("a priority that is not a whole number", submitArguments(id: "b", priority: "1.5")),
        ("a priority that is not a number", submitArguments(id: "b", priority: "high")),
        ("a trace context that is not a JSON object", submitArguments(id: "b", trace: "00-abc")),
        ("a trace context over TRACE_MAX_BYTES", submitArguments(id: "b", trace: "{\"traceparent\":\"" + String(repeating: "a", count: TraceCarrier.maxBytes) + "\"}")),
        ("a window of 0", submitArguments(id: "r1/a", run: "r1", definition: "d", options: [("window", "0")])),
        ("a window that is not a number", submitArguments(id: "r1/a", run: "r1", definition: "d", options: [("window", "many")])),
        ("a rate of 0 per interval", submitArguments(id: "b", rlimit: "0 1000 api")),
        ("a rate over an interval of 0", submitArguments(id: "b", rlimit: "5 0 api")),
        ("a rate whose key is not a name", submitArguments(id: "b", rlimit: "5 1000 api:x")),
        ("a rate that does not parse", submitArguments(id: "b", rlimit: "5/1m api")),
        ("precondition with 17 tests", submitArguments(id: "b", dependency: "a", cond: #"{"mode":"run_if","tests":["# + Array(repeating: #"{"task":"a","path":[],"op":"eq","value":1}"#, count: 17).joined(separator: ",") + "]}")),
    ])
    func submitScriptRefusesWhatSwiftWouldHave(what: String, arguments: [RedisArgument]) async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let before = try await engine.keySnapshot()
            let reply = try await engine.coordinator.runner.evaluate(Scripts.submit, arguments).array ?? []
            #expect(reply.first?.int == ScriptCode.invalidArgument.rawValue, "\(what)")
            #expect(try await engine.keySnapshot() == before, "\(what) wrote to Redis")
        }
    }

    /// queue.lua: an action outside QUEUE_ACTION, and a queue no task used, change nothing.
    @Test func queueScriptRefusesUnknownActionsAndQueues() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", queue: "mail")])
            let before = try await engine.keySnapshot()
            let reply = try await engine.coordinator.runner.evaluate(Scripts.queue, ["sideways", "mail", "0"]).array ?? []
            #expect(reply.first?.int == ScriptCode.invalidArgument.rawValue)
            for call in [{ try await engine.coordinator.maintenance.pause(queue: "mial") },
                         { try await engine.coordinator.maintenance.resume(queue: "mial") }] as [() async throws -> Bool] {
                let error = await #expect(throws: JobqError.self) { _ = try await call() }
                #expect(error?.code == .notFound)
            }
            let invalid = await #expect(throws: JobqError.self) { _ = try await engine.coordinator.maintenance.pause(queue: "a b") }
            #expect(invalid?.code == .invalidName)
            #expect(try await engine.keySnapshot() == before, "a refused queue action wrote to Redis")
            // --new: the queue becomes known and paused, so a later resume finds it.
            #expect(try await engine.coordinator.maintenance.pause(queue: "later", allowNew: true))
            #expect(try await engine.coordinator.inspector.queues().first { $0.name == "later" }?.paused == true)
            #expect(try await engine.coordinator.maintenance.resume(queue: "later"))
        }
    }

    @Test func claimRefusesANonPositiveCount() async throws {
        try await withEngine { engine in
            let error = await #expect(throws: JobqError.self) {
                _ = try await engine.coordinator.leases.claim(queues: ["default"], count: 0, lease: .seconds(5), worker: "w")
            }
            #expect(error?.code == .invalidOption)
            let reply = try await engine.coordinator.runner.evaluate(Scripts.claim, ["w", 0, 1, "default"]).array ?? []
            #expect(reply.first?.int == ScriptCode.invalidArgument.rawValue)
        }
    }

    /// A failure's reason is a stable word; anything else is recorded as "error" (the message
    /// keeps the text), so it can never break the event lines or the status tables.
    @Test func failReasonOutsideTheGrammarIsRecordedAsError() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: 1)])
            let task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(5), worker: "w")[0]
            _ = try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .final, reason: "disk full\nretry later", message: "ENOSPC")])
            #expect(try await engine.field("a", "reason") == "error")
            #expect(try await engine.field("a", "error") == "ENOSPC")
            #expect(try await engine.events(of: "a").last == "RUNNING>FAILED:error")
        }
    }
}
