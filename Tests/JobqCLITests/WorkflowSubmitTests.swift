import Foundation
import JobqCore
import Testing

@Suite("jobq submit -f (workflow files)", .enabled(if: redisAvailable))
struct WorkflowSubmitTests {
    static let flow = """
        workflow: wf1
        defaults:
          queue: batch
          retries: 1
        tasks:
          - id: fetch
            handler: jobq.echo
            title: Fetch
            payload: {url: "https://example.com", n: 3}
          - id: a
            handler: jobq.sleep
            after: [fetch]
            payload: {seconds: 0.1, input: !retval fetch}
          - id: b
            handler: jobq.fail
            after: [fetch]
            max_attempts: 4
            timeout: 2m
            payload: {times: 1}
          - id: join
            handler: jobq.noop
            after: [a, {id: b, policy: always}]
        """

    @Test func yamlWorkflowIsSubmittedAtomically() async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("flow.yaml", Self.flow)
        let result = try await cli.run(["submit", "-f", path])
        #expect(result.status == 0, "\(result.stderr)")
        // A new run of definition wf1: its id is the definition and a ULID.
        let run = result.trimmedOutput
        #expect(run.hasPrefix("wf1-") && run.count == "wf1-".count + 26, "\(run)")
        #expect(try await cli.coordinator.tasks.taskIDs(inWorkflow: run) == ["fetch", "a", "b", "join"].map { "\(run)/\($0)" })
        #expect(try await cli.coordinator.tasks.run(run)?.definition == "wf1")
        let a = try #require(try await cli.coordinator.tasks.task("\(run)/a"))
        #expect(a.queue == "batch")
        #expect(a.maxAttempts == 2)
        #expect(a.workflow == run)
        // The !retval tag is stored in its wire form (a key: it resolves within the run).
        #expect(String(decoding: a.payload, as: UTF8.self) == #"{"seconds":0.1,"input":{"$retval":"fetch"}}"#)
        let b = try #require(try await cli.coordinator.tasks.task("\(run)/b"))
        #expect(b.maxAttempts == 4)
        #expect(b.timeout == .seconds(120))
        let join = try #require(try await cli.coordinator.tasks.task("\(run)/join"))
        #expect(join.prerequisites == [Prerequisite("\(run)/a"), Prerequisite("\(run)/b", policy: .always)])
        #expect(try await cli.coordinator.tasks.task("\(run)/fetch")?.title == "Fetch")
    }

    @Test func jsonWorkflowWithRetvalAndWorkflowOverride() async throws {
        let cli = try await CLIHarness.make()
        let json = """
            {
              "workflow": "ignored",
              "tasks": [
                {"id": "x", "handler": "jobq.echo", "payload": [1, 2]},
                {"id": "y", "handler": "jobq.echo", "after": ["x"], "payload": {"got": {"$retval": "x"}}}
              ]
            }
            """
        let path = try CLIHarness.temporaryFile("flow.json", json)
        let result = try await cli.run(["submit", "-f", path, "--workflow", "wf-json", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try result.json()
        // With -f, --workflow is the run's id (an alias of --run); the file's name is the definition.
        #expect(output["run"] as? String == "wf-json")
        #expect(output["workflow"] as? String == "wf-json")
        #expect(output["definition"] as? String == "ignored")
        #expect(output["created"] as? Bool == true)
        let tasks = try #require(output["tasks"] as? [[String: Any]])
        #expect(tasks.map { $0["id"] as? String } == ["wf-json/x", "wf-json/y"])
        #expect(tasks.map { $0["key"] as? String } == ["x", "y"])
        #expect(tasks.map { $0["state"] as? String } == ["PENDING", "PENDING"])
        #expect(try await cli.coordinator.tasks.task("wf-json/y")?.payload == Array(#"{"got":{"$retval":"x"}}"#.utf8))
    }

    @Test func workflowFromStdin() async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "-f", "-"], stdin: "workflow: piped\ntasks:\n  - {id: one, handler: jobq.noop}\n")
        #expect(result.status == 0, "\(result.stderr)")
        let run = result.trimmedOutput
        #expect(run.hasPrefix("piped-"), "\(run)")
        #expect(try await cli.state("\(run)/one") == .pending)
        // Without `workflow:`, stdin's definition is named "workflow".
        let unnamed = try await cli.run(["submit", "-f", "-", "--json"], stdin: "tasks:\n  - {id: one, handler: jobq.noop}\n")
        #expect(unnamed.status == 0, "\(unnamed.stderr)")
        #expect(try unnamed.json()["definition"] as? String == "workflow")
    }

    @Test func exampleDemoWorkflowIsValid() async throws {
        let cli = try await CLIHarness.make()
        let path = JobqBinary.packageRoot + "/examples/demo-workflow.yaml"
        let dry = try await cli.run(["submit", "-f", path, "--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let plan = try dry.json()
        let tasks = try #require(plan["tasks"] as? [[String: Any]])
        #expect(tasks.count >= 5)
        #expect(tasks.contains { ($0["handler"] as? String) == "jobq.fail" && ($0["max_attempts"] as? Int ?? 0) >= 2 })
        #expect(try await cli.keysInNamespace().isEmpty, "--dry-run wrote to Redis")
        let real = try await cli.run(["submit", "-f", path])
        #expect(real.status == 0, "\(real.stderr)")
        let run = real.trimmedOutput
        #expect(run.hasPrefix("demo-"), "\(run)")
        let report = try #require(try await cli.coordinator.tasks.task("\(run)/report"))
        #expect(String(decoding: report.payload, as: UTF8.self).contains(#"{"$retval":"summarize"}"#))
    }

    // MARK: Bad files: file:line in the message, exit 64, nothing written

    struct BadFile: Sendable, CustomStringConvertible {
        let name: String
        let text: String
        let code: String
        let fragments: [String]
        var description: String { name }
    }

    static let badFiles: [BadFile] = [
        BadFile(name: "malformed YAML", text: "tasks:\n  - id: a\n    handler: [unclosed\n", code: "invalid_workflow_file", fragments: ["flow.yaml:", "not valid YAML"]),
        BadFile(name: "malformed JSON", text: "{\"tasks\": [\n  {\"id\": \"a\", \"handler\": \"h\",}\n]}", code: "invalid_workflow_file", fragments: ["flow.json:2:", "not valid JSON"]),
        BadFile(name: "cycle", text: "tasks:\n  - {id: a, handler: h, after: [c]}\n  - {id: b, handler: h, after: [a]}\n  - {id: c, handler: h, after: [b]}\n", code: "cycle", fragments: ["flow.yaml:2:", "cycle", "a (line 2) -> b (line 3)"]),
        BadFile(name: "self dependency", text: "tasks:\n  - id: a\n    handler: h\n    after: [a]\n", code: "cycle", fragments: ["flow.yaml:4:", "after` itself"]),
        BadFile(name: "unknown key", text: "tasks:\n  - id: a\n    hndler: h\n", code: "invalid_workflow_file", fragments: ["flow.yaml:3:5", "unknown key \"hndler\"", "did you mean \"handler\""]),
        BadFile(name: "missing handler", text: "tasks:\n  - id: a\n    payload: 1\n", code: "invalid_workflow_file", fragments: ["flow.yaml:2:", "task \"a\"", "missing `handler`"]),
        BadFile(name: "invalid id", text: "tasks:\n  - id: \"a b\"\n    handler: h\n", code: "invalid_name", fragments: ["flow.yaml:2:", "task id \"a b\" contains"]),
        BadFile(name: "duplicate id", text: "tasks:\n  - {id: a, handler: h}\n  - {id: a, handler: h}\n", code: "duplicate_id", fragments: ["flow.yaml:3:", "first at line 2"]),
        BadFile(name: "retval not a prerequisite", text: "tasks:\n  - {id: a, handler: h}\n  - id: b\n    handler: h\n    payload: {x: !retval a}\n", code: "invalid_reference", fragments: ["flow.yaml:5:", "!retval a", "add \"a\" to its `after`"]),
        BadFile(name: "unknown tag", text: "tasks:\n  - id: a\n    handler: h\n    payload: !secret x\n", code: "invalid_workflow_file", fragments: ["flow.yaml:4:", "unknown tag !secret"]),
        BadFile(name: "bad duration", text: "tasks:\n  - id: a\n    handler: h\n    timeout: soon\n", code: "invalid_option", fragments: ["flow.yaml:4:", "not a duration"]),
        BadFile(name: "absurd attempts", text: "tasks:\n  - id: a\n    handler: h\n    max_attempts: 100000\n", code: "invalid_option", fragments: ["flow.yaml:2:", "max attempts"]),
        BadFile(name: "no tasks", text: "workflow: w\n", code: "invalid_workflow_file", fragments: ["flow.yaml:1:", "missing `tasks:`"]),
        BadFile(name: "bad policy", text: "tasks:\n  - {id: a, handler: h}\n  - {id: b, handler: h, after: [{id: a, policy: maybe}]}\n", code: "invalid_workflow_file", fragments: ["flow.yaml:3:", "unknown policy \"maybe\""]),
    ]

    @Test(arguments: badFiles)
    func badFileIsRefusedWithItsPlace(_ bad: BadFile) async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile(bad.name.contains("JSON") ? "flow.json" : "flow.yaml", bad.text)
        let human = try await cli.run(["submit", "-f", path])
        #expect(human.status == 64, "\(bad.name): \(human.stderr)")
        #expect(human.stderr.contains("[\(bad.code)]"), "\(bad.name): \(human.stderr)")
        for fragment in bad.fragments {
            #expect(human.stderr.contains(fragment), "\(bad.name): missing \"\(fragment)\" in: \(human.stderr)")
        }
        #expect(human.stdout.isEmpty)
        let json = try await cli.run(["submit", "-f", path, "--json"])
        #expect(json.status == 64)
        #expect(try json.jsonError()["code"] as? String == bad.code)
        #expect(try await cli.keysInNamespace().isEmpty, "\(bad.name): something was written")
    }

    @Test func oversizedPayloadInAFileNamesTheTask() async throws {
        let cli = try await CLIHarness.make()
        let big = String(repeating: "x", count: (1 << 20) + 1)
        let path = try CLIHarness.temporaryFile("flow.yaml", "tasks:\n  - id: small\n    handler: h\n  - id: huge\n    handler: h\n    payload: {blob: \"\(big)\"}\n")
        let result = try await cli.run(["submit", "-f", path])
        #expect(result.status == 64)
        #expect(result.stderr.contains("[payload_too_large]"))
        #expect(result.stderr.contains("flow.yaml:6:"))
        #expect(result.stderr.contains("task \"huge\""))
        #expect(try await cli.keysInNamespace().isEmpty)
    }

    @Test func unknownOutsidePrerequisiteIsReportedWithItsLine() async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("flow.yaml", "tasks:\n  - id: fetch\n    handler: h\n  - id: parse\n    handler: h\n    after: [fetch, fetsh2]\n")
        let result = try await cli.run(["submit", "-f", path])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("[unknown_dependency]"))
        #expect(result.stderr.contains("flow.yaml:6:"))
        #expect(result.stderr.contains("\"fetsh2\""))
        #expect(try await cli.keysInNamespace().isEmpty)
    }

    @Test func outsidePrerequisiteThatExistsIsAccepted() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "jobq.noop", "--id", "earlier"])
        let path = try CLIHarness.temporaryFile("flow.yaml", "tasks:\n  - id: later\n    handler: h\n    after: [earlier]\n    payload: !retval earlier\n")
        let result = try await cli.run(["submit", "-f", path, "--run", "r1"])
        #expect(result.status == 0, "\(result.stderr)")
        // A name outside the file is taken as it is (not scoped into the run).
        #expect(try await cli.coordinator.tasks.task("r1/later")?.prerequisites == [Prerequisite("earlier")])
    }

    /// A task key of a file may be a standalone task's id too: the run's task is `RUN/KEY`, so
    /// the two never collide. What is refused is a run id that exists.
    @Test func runIDThatAlreadyExistsIsRefused() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "jobq.noop", "--id", "taken"])
        let path = try CLIHarness.temporaryFile("flow.yaml", "tasks:\n  - id: fresh\n    handler: h\n  - id: taken\n    handler: h\n")
        let first = try await cli.run(["submit", "-f", path, "--run", "nightly"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try await cli.state("nightly/taken") == .pending)
        #expect(try await cli.state("taken") == .pending)
        let before = try await cli.keysInNamespace()
        let again = try await cli.run(["submit", "-f", path, "--run", "nightly"])
        #expect(again.status == 64)
        #expect(again.stderr.contains("[run_exists]"), "\(again.stderr)")
        #expect(again.stderr.contains("nightly"))
        #expect(again.stdout.isEmpty)
        let json = try await cli.run(["submit", "-f", path, "--run", "nightly", "--json"])
        #expect(json.status == 64)
        #expect(try json.jsonError()["code"] as? String == "run_exists")
        #expect(try await cli.keysInNamespace() == before)
    }

    @Test func missingFileExits66() async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "-f", "/nonexistent/flow.yaml", "--json"])
        #expect(result.status == 66)
        #expect(try result.jsonError()["code"] as? String == "file_not_found")
    }

    @Test func singleTaskOptionsAreRefusedWithAFile() async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "-f", "x.yaml", "--payload", "1"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("put it in the file"))
    }
}
