import Foundation
import JobqCore
import Testing

@testable import JobqCLI

/// The workflow file format, parsed in-process (no Redis).
@Suite("Workflow file format")
struct WorkflowFileTests: WorkflowFileParsing {
    @Test func defaultsAndOverrides() throws {
        let file = try parse("""
            workflow: w
            defaults: {queue: q, retries: 2, timeout: 90s, delay: 1m, keep: 2h, backoff: fixed 5s}
            tasks:
              - {id: a, handler: h}
              - {id: b, handler: h, queue: other, max_attempts: 1, backoff: exponential 1s 1m no-jitter}
            """)
        #expect(file.workflow == "w")
        let a = file.entries[0].spec
        #expect(a.queue == "q")
        #expect(a.maxAttempts == 3)
        #expect(a.timeout == .seconds(90))
        #expect(a.delay == .seconds(60))
        #expect(a.resultTTL == .seconds(7200))
        #expect(a.backoff == .fixed(delay: .seconds(5)))
        let b = file.entries[1].spec
        #expect(b.queue == "other")
        #expect(b.maxAttempts == 1)
        #expect(b.backoff == .exponential(base: .seconds(1), cap: .seconds(60), jitter: false))
        #expect(a.payload == Array("null".utf8))
    }

    @Test func jobcontrolSpellingsAreAccepted() throws {
        let file = try parse("""
            jobs:
              - {id: a, handler: h}
              - {id: b, handler: h, dependencies: [a]}
            """)
        #expect(file.entries[1].spec.prerequisites == [Prerequisite("a")])
    }

    /// `after: [x:always]` is the shorthand `--after` takes; an unknown policy is refused where it is written.
    @Test func afterTakesThePolicyShorthand() throws {
        let file = try parse("""
            tasks:
              - {id: a, handler: h}
              - {id: b, handler: h}
              - {id: c, handler: h, after: [a:always, "b:failure"]}
              - {id: d, handler: h, after: a:success}
            """)
        #expect(file.entries[2].spec.prerequisites == [Prerequisite("a", policy: .always), Prerequisite("b", policy: .failure)])
        #expect(file.entries[3].spec.prerequisites == [Prerequisite("a")])
        let error = failure("""
            tasks:
              - {id: a, handler: h}
              - {id: b, handler: h, after: [a:sometimes]}
            """)
        #expect(error?.message.contains("unknown policy \"sometimes\"") == true)
        #expect(error?.message.hasPrefix("flow.yaml:3:") == true)
    }

    @Test func yamlScalarsBecomeJSON() throws {
        // a references b without depending on it: refused.
        let error = failure("""
            tasks:
              - id: a
                handler: h
                payload: {k: !retval b}
              - {id: b, handler: h}
            """)
        #expect(error?.code == .invalidReference)
        #expect(error?.message.hasPrefix("flow.yaml:4:") == true)

        let ok = try parse("""
            tasks:
              - {id: b, handler: h}
              - id: a
                handler: h
                after: [b]
                payload:
                  int: 42
                  float: 2.5
                  flag: true
                  none: null
                  text: "007"
                  plain: hello world
                  list: [1, two]
                  nested: {k: !retval b}
            """)
        let payload = String(decoding: ok.entries[1].spec.payload, as: UTF8.self)
        #expect(payload == #"{"int":42,"float":2.5,"flag":true,"none":null,"text":"007","plain":"hello world","list":[1,"two"],"nested":{"k":{"$retval":"b"}}}"#)
    }

    @Test func transitiveRetvalIsAllowed() throws {
        let file = try parse("""
            tasks:
              - {id: a, handler: h}
              - {id: b, handler: h, after: [a]}
              - {id: c, handler: h, after: [b], payload: !retval a}
            """)
        #expect(String(decoding: file.entries[2].spec.payload, as: UTF8.self) == #"{"$retval":"a"}"#)
    }

    @Test func jsonErrorsHaveLinesAndColumns() {
        let error = failure("{\n  \"tasks\": [\n    {\"id\": \"a\", \"handler\": true}\n  ]\n}", name: "f.json")
        #expect(error?.code == .invalidWorkflowFile)
        #expect(error?.message.hasPrefix("f.json:3:") == true, "\(String(describing: error))")
        #expect(error?.message.contains("`handler` must be a name") == true)
    }

    @Test func externalPrerequisitesAreListedWithTheirPlace() throws {
        let file = try parse("tasks:\n  - id: a\n    handler: h\n    after: [outside]\n")
        #expect(file.externalPrerequisites.count == 1)
        #expect(file.externalPrerequisites.first?.prerequisite == "outside")
        #expect(file.externalPrerequisites.first?.line == 4)
    }

    @Test func aliasBombIsBounded() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        text += "tasks:\n  - {id: a, handler: h, payload: *a8}\n"
        #expect(throws: JobqError.self) { try WorkflowFile.parse(Array(text.utf8), name: "bomb.yaml", maxNodes: 10_000) }
        do {
            _ = try WorkflowFile.parse(Array(text.utf8), name: "bomb.yaml", maxNodes: 10_000)
        } catch {
            #expect(error.message.contains("more than 10000 values"))
        }
    }

    @Test func durationsAndBackoffText() {
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("1.5s") == .milliseconds(1500))
        #expect(DurationText.parse("1h30m") == .seconds(5400))
        #expect(DurationText.parse("2d") == .seconds(172_800))
        #expect(DurationText.parse("45") == .seconds(45))
        #expect(DurationText.parse("soon") == nil)
        #expect(DurationText.parse("-1s") == nil)
        #expect(DurationText.parse("") == nil)
        #expect(BackoffText.parse("fixed 5s") == .fixed(delay: .seconds(5)))
        #expect(BackoffText.parse("exponential 2s 1s") == nil)
        #expect(BackoffText.parse("linear 1s") == nil)
        #expect(DurationText.format(milliseconds: 1234) == "1.2s")
        #expect(DurationText.format(milliseconds: 185_000) == "3m05s")
    }

    @Test func suggestions() {
        #expect(Suggestion.closest(to: "hndler", among: WorkflowFileDecoder.taskKeys) == "handler")
        #expect(Suggestion.closest(to: "zzzzzz", among: WorkflowFileDecoder.taskKeys) == nil)
    }
}

@Suite("JSONValue")
struct JSONValueTests {
    @Test func roundTripKeepsOrderAndNumbers() throws {
        let text = #"{"z":1,"a":[1.50,-0,2e10,true,false,null],"s":"é\n\"\u0001"}"#
        let value = try JSONValue.parse(text)
        #expect(value.rendered() == #"{"z":1,"a":[1.50,-0,2e10,true,false,null],"s":"é\n\"\u0001"}"#)
        #expect(value["z"] == .number("1"))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":1,\"a\":2}", "01", "\"\\x\"", "nul", "1 2", "\"\u{01}\"", "[\"\\ud800\"]"])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(text) }
    }

    @Test func errorPositions() {
        do {
            _ = try JSONValue.parse("{\n  \"a\": tru\n}")
            Issue.record("accepted invalid JSON")
        } catch {
            #expect(error.line == 2)
            #expect(error.column >= 8)
        }
    }

    @Test func deepNestingIsRefusedNotCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(deep) }
    }

    @Test func prettyRendering() throws {
        let value = try JSONValue.parse(#"{"a":[1,{"b":null}],"c":{}}"#)
        #expect(value.rendered(pretty: true) == "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"c\": {}\n}")
    }
}

@Suite("Retval wire form (engine helper)")
struct RetvalSubstitutionTests {
    @Test func findsAndReplacesReferencesOutsideStrings() {
        let payload = Array(#"{"a":{"$retval":"x"},"s":"{\"$retval\":\"x\"}","b":[{ "$retval" : "y" }],"c":{"$retval":"x","more":1}}"#.utf8)
        let references = RetvalReferences.find(in: payload)
        #expect(references.map(\.id) == ["x", "y"])
        let replaced = RetvalReferences.substitute(in: payload, results: ["x": Array(#"{"n":1}"#.utf8)])
        #expect(String(decoding: replaced, as: UTF8.self) == #"{"a":{"n":1},"s":"{\"$retval\":\"x\"}","b":[null],"c":{"$retval":"x","more":1}}"#)
    }

    @Test func payloadWithoutReferencesIsUntouched() {
        let payload = Array(#"{"plain":true}"#.utf8)
        #expect(RetvalReferences.substitute(in: payload, results: [:]) == payload)
    }
}
