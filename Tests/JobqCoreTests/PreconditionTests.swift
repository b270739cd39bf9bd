import JobqRedis
import Testing

@testable import JobqCore

/// skip_if / run_if: the parser and evaluator (pure Swift), then the same rules in the scripts.
@Suite("preconditions: parser and evaluator")
struct PreconditionTests {
    static func parse(_ json: String, _ mode: Precondition.Mode = .skipIf, prerequisites: [String] = ["fetch", "lint", "v1.2"]) throws -> Precondition {
        try Precondition.parse(json: json, mode: mode, prerequisites: prerequisites)
    }

    @Test func compactNestedListAndOperatorFormsParse() throws {
        #expect(try Self.parse(#"{"fetch.status": "unchanged"}"#).tests == [.init(prerequisite: "fetch", path: ["status"], .equals(#""unchanged""#))])
        #expect(try Self.parse(#"{"fetch": {"status": "unchanged", "n": 2}}"#).tests.count == 2)
        #expect(try Self.parse(#"[{"fetch.items.0.name": "a"}, {"lint": true}]"#).tests.map(\.path) == [["items", "0", "name"], []])
        #expect(try Self.parse(#"{"fetch.code": {"in": [200, 204]}}"#).tests[0].op == .oneOf(["200", "204"]))
        #expect(try Self.parse(#"{"fetch.etag": {"exists": true}}"#).tests[0].op == .exists(true))
        #expect(try Self.parse(#"{"fetch.n": {"ne": 0}}"#).tests[0].op == .notEquals("0"))
        #expect(try Self.parse(#"{"fetch.meta": {"eq": {"a": 1}}}"#).tests[0].op == .equals(#"{"a":1}"#))
        // A task id with dots: the longest prefix that is a prerequisite.
        #expect(try Self.parse(#"{"v1.2.ok": true}"#).tests[0] == .init(prerequisite: "v1.2", path: ["ok"], .equals("true")))
    }

    @Test(arguments: [
        #"{"nope.status": 1}"#, // not a prerequisite
        #""fetch""#, // not a mapping
        #"{}"#, // no test
        #"{"fetch.a..b": 1}"#, // empty path part
        #"{"fetch.code": {"in": 3}}"#,
        #"{"fetch.code": {"in": []}}"#,
        #"{"fetch.code": {"exists": "yes"}}"#,
        #"{"fetch.code": {"like": 1, "other": 2}}"#, // an object that is no operator
        #"{"fetch.status": "#, // not JSON
    ])
    func badPreconditionsAreRefusedWithAStableCode(json: String) {
        let error = #expect(throws: JobqError.self) { _ = try Self.parse(json) }
        #expect(error?.code == .invalidPrecondition, "\(json)")
    }

    @Test func tooManyTestsOrTooDeepAPathIsRefused() {
        let many = "{" + (0..<17).map { #""fetch.k\#($0)": 1"# }.joined(separator: ",") + "}"
        #expect(throws: JobqError.self) { _ = try Self.parse(many) }
        let deep = #"{"fetch."# + (0..<17).map { "p\($0)" }.joined(separator: ".") + #"": 1}"#
        #expect(throws: JobqError.self) { _ = try Self.parse(deep) }
    }

    @Test func evaluationFollowsTheDocumentedRules() throws {
        let results: [String: [UInt8]] = [
            "fetch": Array(#"{"status": "unchanged", "items": [{"name": "a"}], "n": 2.0, "meta": {"b": 2, "a": 1}, "nothing": null}"#.utf8),
            "lint": Array("null".utf8),
        ]
        func skips(_ json: String, _ mode: Precondition.Mode = .skipIf) throws -> Bool {
            try Self.parse(json, mode).evaluate(results: results) != nil
        }
        #expect(try skips(#"{"fetch.status": "unchanged"}"#))
        #expect(try !skips(#"{"fetch.status": "changed"}"#))
        #expect(try skips(#"{"fetch.items.0.name": "a"}"#))
        #expect(try !skips(#"{"fetch.items.1.name": "a"}"#)) // missing path: no match
        #expect(try skips(#"{"fetch.n": 2}"#)) // numbers by value
        #expect(try skips(#"{"fetch.meta": {"eq": {"a": 1, "b": 2}}}"#)) // any key order
        #expect(try skips(#"{"fetch.status": {"in": ["x", "unchanged"]}}"#))
        #expect(try skips(#"{"fetch.nothing": {"exists": false}}"#))
        #expect(try skips(#"{"fetch.missing": {"exists": false}}"#))
        #expect(try !skips(#"{"fetch.missing": {"ne": 1}}"#))
        #expect(try !skips(#"{"lint": null}"#)) // a null result never matches
        #expect(try !skips(#"{"lint.x": {"exists": false}}"#))
        #expect(try !skips(#"[{"fetch.status": "unchanged"}, {"fetch.n": 3}]"#)) // AND
        // run_if: skipped when a test does not hold, with the test in the text.
        let why = try Self.parse(#"{"fetch.status": "changed"}"#, .runIf).evaluate(results: results)
        #expect(why == #"run_if did not hold: fetch.status = "changed""#)
        #expect(try Self.parse(#"{"fetch.status": "unchanged"}"#, .runIf).evaluate(results: results) == nil)
    }
}

/// The scripts decide preconditions when a task becomes ready, as the Swift evaluator does.
@Suite("preconditions in the scripts", .enabled(if: redisAvailable))
struct PreconditionScriptTests {
    static func task(_ id: String, after: [String] = [], _ precondition: Precondition? = nil) -> TaskSpec {
        TaskSpec(id: id, handler: "noop", prerequisites: after.map { Prerequisite($0) }, maxAttempts: 1, precondition: precondition)
    }

    static func cond(_ json: String, _ mode: Precondition.Mode = .skipIf, _ prerequisites: [String] = ["fetch"]) throws -> Precondition {
        try Precondition.parse(json: json, mode: mode, prerequisites: prerequisites)
    }

    /// Runs `fetch` with `result`, then reports what `t` (gated by `json`) became.
    static func outcome(_ json: String, _ mode: Precondition.Mode = .skipIf, result: String) async throws -> (TaskState?, String?) {
        var answer: (TaskState?, String?) = (nil, nil)
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([task("fetch"), task("t", after: ["fetch"], try cond(json, mode)), task("u", after: ["t"])])
            _ = try await engine.drain(batch: 1) { $0.id == "fetch" ? Array(result.utf8) : Array("null".utf8) }
            answer = (try await engine.state("t"), try await engine.field("t", "error"))
            if answer.0 == .skipped {
                #expect(try await engine.field("t", "reason") == "precondition")
                #expect(try await engine.state("u") == .done) // dependents of a SKIPPED task run
                #expect(try await engine.events(of: "t").last == "PENDING>SKIPPED:precondition")
            }
        }
        return answer
    }

    @Test func skipIfAndRunIfAreDecidedWhenTheTaskBecomesReady() async throws {
        let result = #"{"status": "unchanged", "items": [{"name": "a"}, {"name": "b"}], "n": 2}"#
        let cases: [(String, Precondition.Mode, TaskState)] = [
            (#"{"fetch.status": "unchanged"}"#, .skipIf, .skipped),
            (#"{"fetch.status": "changed"}"#, .skipIf, .done),
            (#"{"fetch.items.1.name": "b"}"#, .skipIf, .skipped),
            (#"{"fetch.items.5.name": "b"}"#, .skipIf, .done), // missing path
            (#"{"fetch.n": {"in": [1, 2.0]}}"#, .skipIf, .skipped),
            (#"{"fetch.gone": {"exists": false}}"#, .skipIf, .skipped),
            (#"{"fetch.n": {"ne": 2}}"#, .skipIf, .done),
            (#"{"fetch.status": "changed"}"#, .runIf, .skipped),
            (#"{"fetch.status": "unchanged"}"#, .runIf, .done),
        ]
        for (json, mode, expected) in cases {
            let (state, error) = try await Self.outcome(json, mode, result: result)
            #expect(state == expected, "\(mode.rawValue) \(json): \(String(describing: state))")
            if expected == .skipped { #expect(error?.contains(mode == .skipIf ? "skip_if held: fetch." : "run_if did not hold: fetch.") == true, "\(error ?? "")") }
        }
    }

    @Test func aNullResultNeverMatches() async throws {
        #expect(try await Self.outcome(#"{"fetch": null}"#, result: "null").0 == .done)
        #expect(try await Self.outcome(#"{"fetch.x": {"exists": false}}"#, result: "null").0 == .done)
        #expect(try await Self.outcome(#"{"fetch.x": 1}"#, .runIf, result: "null").0 == .skipped)
    }

    @Test func aTaskWithNothingToWaitForIsDecidedAtSubmit() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([Self.task("fetch")])
            _ = try await engine.drain { _ in Array(#"{"status": "unchanged"}"#.utf8) }
            let reply = try await engine.coordinator.tasks.submit([Self.task("late", after: ["fetch"], try Self.cond(#"{"fetch.status": "unchanged"}"#))])
            #expect(reply.tasks.first?.state == .skipped)
            #expect(try await engine.events(of: "late") == ["->SKIPPED:precondition"])
            #expect(try await engine.readyList().isEmpty)
        }
    }

    @Test func swiftRefusesBadPreconditionsAndWritesNothing() async throws {
        try await withEngine { engine in
            let before = try await engine.keySnapshot()
            // A test on a task that is not a prerequisite (built in Swift, bypassing the parser).
            let stray = Precondition(.skipIf, [.init(prerequisite: "other", path: [], .equals("1"))])
            let error = await #expect(throws: JobqError.self) {
                _ = try await engine.coordinator.tasks.submit([Self.task("fetch"), Self.task("t", after: ["fetch"], stray)])
            }
            #expect(error?.code == .invalidPrecondition)
            #expect(try await engine.keySnapshot() == before)
        }
    }
}
