import Foundation
import JobqCore
import Testing

@testable import JobqCLI

/// `map:` in a workflow file, parsed in-process (no Redis): what it compiles to, and each
/// rejection with its code and place.
@Suite("workflow files: map")
struct MapFileTests: WorkflowFileParsing {
    @Test func aMapCompilesToTheBuiltInHandlerWithItsRequest() throws {
        let file = try parse("""
            defaults: {queue: q, retries: 2}
            tasks:
              - {id: list, handler: ls}
              - id: resize
                after: [list]
                map:
                  over: !retval list
                  task:
                    handler: img.resize
                    payload:
                      file: !item
                      n: !index
                    timeout: 5m
                  width: 500
                  window: 20
              - {id: report, handler: summarize, after: [resize], payload: {sizes: !retval resize}}
            """)
        let spec = file.entries[1].spec
        #expect(spec.handler == MapRequest.handlerName)
        #expect(spec.timeout == ChildRunRequest.startTimeout)
        let request = try MapRequest.decode(spec.payload)
        #expect(request.over == Array(#"{"$retval":"list"}"#.utf8))
        #expect(request.width == 500 && request.window == 20)
        #expect(request.task.handler == "img.resize" && request.task.queue == "q" && request.task.maxAttempts == 3)
        #expect(request.task.timeoutMs == 300_000)
        #expect(request.task.payload == #"{"file":{"$item":true},"n":{"$index":true}}"#)
        // the wire form keeps `over` as JSON, so the worker's !retval resolution reaches it
        #expect(RetvalReferences.find(in: spec.payload).map(\.id) == ["list"])
    }

    /// Each child gets the template's fair key: a map submitted for one tenant takes turns with
    /// the other tenants' work on the queue. The key's fields are the template's own (checked
    /// when the file is read), not inside `!item`.
    @Test func theTemplatesFairKeyReachesEachChild() throws {
        let file = try parse("""
            tasks:
              - id: m
                map: {over: [x, y], task: {handler: h, payload: {tenant: acme, file: !item }, fair_key: "tenant-{payload.tenant}"}}
            """)
        let request = try MapRequest.decode(file.entries[0].spec.payload)
        #expect(request.task.fairKey == "tenant-{payload.tenant}")
        guard case .children(let child, _) = try request.expansion() else { Issue.record("no children"); return }
        let specs = try child.submission(id: "r.m").0
        #expect(try specs.map { try FairKey.expand($0.fairKey!, payload: $0.payload, subject: $0.id) } == ["tenant-acme", "tenant-acme"])
        #expect(throws: JobqError.self) {
            _ = try parse("""
                tasks:
                  - {id: m, map: {over: [x], task: {handler: h, payload: {file: !item }, fair_key: "tenant-{payload.tenant}"}}}
                """)
        }
    }

    /// Key templates in a map's `task` may name fields inside `!item` (and `!index`): checked
    /// when the map expands, per child, each child with its own element's key. Paths beside the
    /// placeholders are still checked when the file is read.
    @Test func keyTemplatesMayNameFieldsOfTheElement() throws {
        let file = try parse("""
            tasks:
              - id: m
                map:
                  over: [{tenant: a, account: 7}, {tenant: b, account: 8}]
                  task:
                    handler: h
                    payload: {job: !item , n: !index }
                    concurrency_key: "acct-{payload.job.account}"
                    concurrency_limit: 1
                    rate_key: "api-{payload.job.tenant}"
                    rate_limit: 10/1s
                    fair_key: "t-{payload.job.tenant}-{payload.n}"
            """)
        let request = try MapRequest.decode(file.entries[0].spec.payload)
        guard case .children(let child, _) = try request.expansion() else { Issue.record("no children"); return }
        let specs = try child.submission(id: "r.m").0
        #expect(try specs.map { try $0.concurrency!.scriptArgument(payload: $0.payload) } == ["1 acct-7", "1 acct-8"])
        #expect(try specs.map { try $0.rate!.scriptArgument(payload: $0.payload, queue: $0.queue) } == ["10 1000 api-a", "10 1000 api-b"])
        #expect(try specs.map { try FairKey.expand($0.fairKey!, payload: $0.payload) } == ["t-a-0", "t-b-1"])

        // an element without the field: the child's key cannot expand (the worker fails the map
        // with bad_payload, MapCommandTests)
        let lacking = try parse("""
            tasks:
              - {id: m, map: {over: [{other: 1}], task: {handler: h, payload: {job: !item }, fair_key: "t-{payload.job.tenant}"}}}
            """)
        guard case .children(let bad, _) = try MapRequest.decode(lacking.entries[0].spec.payload).expansion() else { Issue.record("no children"); return }
        let badSpec = try bad.submission(id: "r.m").0[0]
        #expect((#expect(throws: JobqError.self) { _ = try FairKey.expand(badSpec.fairKey!, payload: badSpec.payload) })?.code == .invalidOption)

        // a path beside the placeholders must exist now, as in any task
        for key in ["concurrency_key: \"a-{payload.tenant}\", concurrency_limit: 1", "rate_key: \"a-{payload.tenant}\", rate_limit: 1/1s", "fair_key: \"a-{payload.tenant}\""] {
            let refused = #expect(throws: JobqError.self, "\(key)") {
                _ = try parse("""
                    tasks:
                      - {id: m, map: {over: [x], task: {handler: h, payload: {job: !item }, \(key)}}}
                    """)
            }
            #expect(refused?.code == .invalidOption && refused?.message.contains("payload.tenant") == true, "\(String(describing: refused))")
        }
    }

    @Test func aLiteralListAndTheTemplatesOwnReferencesAreKept() throws {
        let file = try parse("""
            tasks:
              - {id: config, handler: cfg}
              - id: m
                after: [config]
                map: {over: [a, b, 3], task: {handler: h, payload: {item: !item , cfg: !retval config}}}
            """)
        let request = try MapRequest.decode(file.entries[1].spec.payload)
        #expect(request.over == Array(#"["a","b",3]"#.utf8))
        #expect(request.width == MapRequest.defaultWidth && request.window == nil)
        #expect(RetvalReferences.find(in: file.entries[1].spec.payload).map(\.id) == ["config"])
        #expect(request.task.fairKey == nil)
        // expanded once the references are resolved: one child per element, in order
        guard case .children(let child, let count) = try request.expansion() else { Issue.record("no children"); return }
        #expect(count == 3 && child.tasks.map(\.key) == ["0", "1", "2"])
        #expect(child.tasks.map(\.payload) == [#"{"item":"a","cfg":{"$retval":"config"}}"#, #"{"item":"b","cfg":{"$retval":"config"}}"#, #"{"item":3,"cfg":{"$retval":"config"}}"#])
    }

    @Test func theExpansionRules() throws {
        func request(_ over: String, width: Int = 10) throws -> MapRequest {
            try MapRequest(over: Array(over.utf8), task: TaskSpec(handler: "h", payload: MapRequest.item), width: width)
        }
        // what a worker sees once `over`'s reference is resolved: any JSON
        let decoded = { (over: String) throws -> MapRequest in
            var resolved = try request("[]")
            resolved.over = Array(over.utf8)
            return try MapRequest.decode(try resolved.encoded())
        }
        guard case .notList(let what) = try decoded(#""text""#).expansion() else { Issue.record("a string is not a list"); return }
        #expect(what == "a string")
        guard case .notList = try decoded("null").expansion() else { Issue.record("null is not a list"); return }
        guard case .empty = try request("[]").expansion() else { Issue.record("an empty list"); return }
        guard case .tooWide(let count) = try request("[1,2,3]", width: 2).expansion() else { Issue.record("over the width"); return }
        #expect(count == 3)
    }

    @Test func badMapsAreRefusedWithTheirPlace() {
        let head = "tasks:\n  - {id: l, handler: ls}\n"
        expectRefused(head + "  - {id: m, handler: h, map: {over: !retval l, task: {handler: h}}, after: [l]}\n",
                      code: .invalidMap, message: "give `map`", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, workflow: x.yaml, map: {over: !retval l, task: {handler: h}}, after: [l]}\n",
                      code: .invalidMap, message: "or `workflow`, not both", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {task: {handler: h}}, after: [l]}\n",
                      code: .invalidMap, message: "needs `over`", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {over: some, task: {handler: h}}, after: [l]}\n",
                      code: .invalidMap, message: "`map.over` must be `!retval TASK` or a list, not a string", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {over: !retval l}, after: [l]}\n",
                      code: .invalidMap, message: "needs `task`", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {over: !retval l, task: {payload: 1}}, after: [l]}\n",
                      code: .invalidMap, message: "`map.task` needs a `handler`", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {over: [1], task: {handler: jobq.map}}}\n",
                      code: .invalidMap, message: "built-in handler of maps", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {over: [1], task: {handler: h}, width: 0}}\n",
                      code: .invalidMap, message: "`map.width` must be from 1 to 100000", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {over: [1], task: {handler: h}, width: 100001}}\n",
                      code: .invalidMap, message: "`map.width` must be from 1 to 100000", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {over: [1], task: {handler: h}, window: 0}}\n",
                      code: .invalidMap, message: "`map.window` must be from 1", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {over: [1], task: {handler: h, after: [l]}}}\n",
                      code: .invalidWorkflowFile, message: "unknown key \"after\" in map.task", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {over: [1], task: {handler: h}}, payload: 1}\n",
                      code: .invalidMap, message: "a map takes no `payload`", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {over: [1], task: {handler: h}, by: 2}}\n",
                      code: .invalidWorkflowFile, message: "unknown key \"by\" in map", place: "flow.yaml:3:")
        // the map's references must name its prerequisites, like any !retval
        expectRefused(head + "  - {id: m, map: {over: !retval l, task: {handler: h}}}\n",
                      code: .invalidReference, message: "!retval l does not name a prerequisite", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {over: [1], task: {handler: h, payload: !retval l}}}\n",
                      code: .invalidReference, message: "!retval l does not name a prerequisite", place: "flow.yaml:3:")
        // a placeholder outside a map's task would never be replaced
        expectRefused(head + "  - {id: m, handler: h, payload: {file: !item }}\n",
                      code: .invalidMap, message: "!item and !index stand for a map's element", place: "flow.yaml:3:")
        // a bare tag before `}` is not YAML: the message says how to write it
        expectRefused(head + "  - {id: m, map: {over: [1], task: {handler: h, payload: {file: !item}}}}\n",
                      code: .invalidWorkflowFile, message: "a tag needs a space after it", place: "flow.yaml:3:")
        expectRefused(head + "  - {id: m, map: {over: [1], task: {handler: h, payload: !item x}}}\n",
                      code: .invalidWorkflowFile, message: "!item takes no value", place: "flow.yaml:3:")
    }

    @Test func theLibraryRefusesTheSameShapes() {
        func code(_ body: () throws(JobqError) -> Void) -> JobqError.Code? {
            do { try body(); return nil } catch { return error.code }
        }
        let template = TaskSpec(handler: "h", payload: MapRequest.item)
        #expect(code { () throws(JobqError) in _ = try MapRequest(over: Array("{}".utf8), task: template) } == .invalidMap)
        #expect(code { () throws(JobqError) in _ = try MapRequest(over: Array("[1]".utf8), task: template, width: 0) } == .invalidMap)
        #expect(code { () throws(JobqError) in _ = try MapRequest(over: Array("[1]".utf8), task: template, width: MapRequest.maxWidth + 1) } == .invalidMap)
        #expect(code { () throws(JobqError) in _ = try MapRequest(over: Array("[1]".utf8), task: template, window: 0) } == .invalidMap)
        #expect(code { () throws(JobqError) in _ = try MapRequest(over: Array("[1]".utf8), task: TaskSpec(handler: "jobq.run")) } == .invalidMap)
        #expect(code { () throws(JobqError) in _ = try MapRequest(over: Array("[1]".utf8), task: template, width: 1, window: 1) } == nil)
        // key templates: a path into the element is checked per child; one beside it, now
        var keyed = TaskSpec(handler: "h", payload: Array(#"{"job":{"$item":true}}"#.utf8))
        keyed.fairKey = "t-{payload.job.tenant}"
        #expect(code { () throws(JobqError) in _ = try MapRequest(over: Array("[1]".utf8), task: keyed) } == nil)
        keyed.fairKey = "t-{payload.tenant}"
        #expect(code { () throws(JobqError) in _ = try MapRequest(over: Array("[1]".utf8), task: keyed) } == .invalidMap)
        keyed.fairKey = nil
        keyed.concurrency = ConcurrencyLimit(key: "t-{payload.tenant}", limit: 1)
        #expect(code { () throws(JobqError) in _ = try MapRequest(over: Array("[1]".utf8), task: keyed) } == .invalidMap)
    }
}
