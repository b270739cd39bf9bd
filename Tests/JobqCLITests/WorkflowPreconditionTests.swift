import Foundation
import JobqCore
import Testing

@testable import JobqCLI

/// `skip_if` / `run_if` and the `failure` policy in workflow files (YAML and JSON), with
/// line/column errors and stable codes like the other keys.
@Suite("Workflow file: preconditions and the failure policy")
struct WorkflowPreconditionTests: WorkflowFileParsing {
    @Test func yamlAndJSONPreconditionsAndFailureEdgesParse() throws {
        let yaml = try parse("""
            tasks:
              - {id: fetch, handler: h}
              - {id: build, handler: h, after: [fetch], skip_if: {fetch.status: unchanged}}
              - {id: rollback, handler: h, after: [{id: build, policy: failure}]}
              - id: ship
                handler: h
                after: [fetch, build]
                run_if: [{fetch.items.0.ok: true}, {build.code: {in: [0, 2]}}]
            """)
        let build = try #require(yaml.entries.first { $0.id == "build" }?.spec)
        #expect(build.precondition == Precondition(.skipIf, [.init(prerequisite: "fetch", path: ["status"], .equals(#""unchanged""#))]))
        #expect(yaml.entries.first { $0.id == "rollback" }?.spec.prerequisites == [Prerequisite("build", policy: .failure)])
        let ship = try #require(yaml.entries.first { $0.id == "ship" }?.spec.precondition)
        #expect(ship.mode == .runIf && ship.tests.count == 2 && ship.tests[1].op == .oneOf(["0", "2"]))
        let json = try parse(#"{"tasks": [{"id": "fetch", "handler": "h"}, {"id": "b", "handler": "h", "after": ["fetch"], "skip_if": {"fetch": {"status": "unchanged"}}}]}"#, name: "f.json")
        #expect(json.entries[1].spec.precondition == build.precondition)
    }

    @Test func badPreconditionsPointAtTheirLine() {
        let stray = failure("""
            tasks:
              - {id: fetch, handler: h}
              - id: build
                handler: h
                after: [fetch]
                skip_if: {lint.ok: true}
            """)
        #expect(stray?.code == .invalidPrecondition)
        #expect(stray?.message.hasPrefix("flow.yaml:6:") == true, "\(String(describing: stray))")
        #expect(stray?.message.contains("lint.ok") == true)
        let both = failure("tasks:\n  - {id: a, handler: h}\n  - {id: b, handler: h, after: [a], skip_if: {a: 1}, run_if: {a: 2}}\n")
        #expect(both?.code == .invalidPrecondition)
        #expect(both?.message.contains("not both") == true)
        let unparsable = failure(#"{"tasks": [{"id": "a", "handler": "h"}, {"id": "b", "handler": "h", "after": ["a"], "skip_if": "a"}]}"#, name: "f.json")
        #expect(unparsable?.code == .invalidPrecondition)
        #expect(unparsable?.message.hasPrefix("f.json:1:") == true, "\(String(describing: unparsable))")
    }
}
