import Foundation
import JobqCore
import Testing

@testable import JobqCLI

/// The run keys of workflow files (`window`, `deadline`, `fail_fast`, `output`, `critical`,
/// `sequence`), parsed in-process: what they give, and each rejection with its stable code and
/// place.
@Suite("Workflow file format: run options")
struct RunFileOptionsTests: WorkflowFileParsing {
    @Test func runKeysBecomeRunOptions() throws {
        let file = try parse("""
            workflow: nightly
            window: 3
            deadline: 30m
            fail_fast: true
            output: last
            tasks:
              - {id: first, handler: h, critical: true}
              - sequence:
                  - {id: middle, handler: h}
                  - {id: last, handler: h, after: [first]}
            """)
        let options = file.runOptions(id: nil, definition: file.workflow ?? "")
        #expect(options == RunOptions(definition: "nightly", window: 3, deadline: .after(.seconds(1800)), failFast: true, critical: ["first"], output: "last"))
        // sequence: each task after the one before it, besides its own `after`
        #expect(file.entries.map(\.id) == ["first", "middle", "last"])
        #expect(file.entries[1].spec.prerequisites.isEmpty)
        #expect(file.entries[2].spec.prerequisites.map(\.id) == ["middle", "first"])
        let inAMonth = ISO8601DateFormatter().string(from: Date().addingTimeInterval(30 * 24 * 3600))
        let absolute = try parse("deadline: \(inAMonth)\ntasks:\n  - {id: a, handler: h}\n")
        #expect(absolute.deadline == .at(ISO8601DateFormatter().date(from: inAMonth)!))
    }

    @Test(arguments: [
        ("window: 0", "`window` must be from 1", JobqError.Code.invalidOption),
        ("window: 1000000", "`window` must be from 1", .invalidOption),
        ("window: many", "`window` must be a whole number", .invalidWorkflowFile),
        ("deadline: soonish", "is neither a duration", .invalidOption),
        ("deadline: 2001-01-01T00:00:00Z", "has passed", .invalidOption),
        ("deadline: 800d", "at most", .invalidOption),
        ("fail_fast: maybe", "`fail_fast` must be true or false", .invalidOption),
        ("output: ghost", "not a task of this file", .invalidOption),
    ])
    func badRunKeysAreRefusedWithTheirPlace(line: String, message: String, code: JobqError.Code) {
        expectRefused("\(line)\ntasks:\n  - {id: a, handler: h}\n", code: code, message: message, place: "flow.yaml:1:")
    }

    @Test func badTaskKeysForRunsAreRefused() {
        let critical = #expect(throws: JobqError.self) { try parse("tasks:\n  - {id: a, handler: h, critical: 3}\n") }
        #expect(critical?.code == .invalidOption && critical?.message.contains("`critical` must be true or false") == true)
        let sequence = #expect(throws: JobqError.self) { try parse("tasks:\n  - sequence: 5\n") }
        #expect(sequence?.message.contains("`sequence` must be a non-empty list") == true, "\(sequence?.message ?? "")")
        let builtin = #expect(throws: JobqError.self) { try parse("tasks:\n  - {id: a, handler: jobq.run}\n") }
        #expect(builtin?.message.contains("built-in handler of sub-workflows") == true)
    }
}

/// `jobq submit -f` with run options on the command line: each bad value is refused (exit 64,
/// `invalid_option`) and writes nothing.
@Suite("jobq submit: run options", .enabled(if: redisAvailable))
struct SubmitRunOptionTests {
    @Test func badRunOptionsAreRefusedAndWriteNothing() async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("flow.yaml", "tasks:\n  - {id: a, handler: jobq.noop}\n")
        let before = try await cli.keysInNamespace()
        for arguments in [["--window", "0"], ["--window", "200000"], ["--deadline", "whenever"], ["--deadline", "2001-01-01T00:00:00Z"], ["--deadline", "0s"]] {
            let result = try await cli.run(["submit", "-f", path, "--json"] + arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(try result.jsonError()["code"] as? String == "invalid_option", "\(arguments)")
        }
        let single = try await cli.run(["submit", "jobq.noop", "--window", "2"])
        #expect(single.status == 64 && single.stderr.contains("apply to a run"), "\(single.stderr)")
        #expect(try await cli.keysInNamespace() == before)
        let good = try await cli.run(["submit", "-f", path, "--window", "2", "--deadline", "1h", "--fail-fast", "--run", "opts", "--json"])
        #expect(good.status == 0, "\(good.stderr)")
        let record = try #require(try await cli.run(["status", "opts", "--json"]).json()["run"] as? [String: Any])
        let options = try #require(record["options"] as? [String: String])
        #expect(options["window"] == "2" && options["fail_fast"] == "1" && options["deadline"] != nil, "\(options)")
    }
}

/// `jobq logs RUN` and the rejections of the run commands' own arguments.
@Suite("run commands: logs and bad arguments", .enabled(if: redisAvailable))
struct RunCommandArgumentTests {
    @Test func logsOfARunPrefixEachLineWithItsTaskKey() async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("flow.yaml", "tasks:\n  - {id: a, handler: jobq.noop}\n  - {id: b, handler: jobq.noop}\n")
        #expect(try await cli.run(["submit", "-f", path, "--run", "lg"]).status == 0)
        let lease = try await cli.claim("lg/a")
        _ = try await cli.coordinator.leases.report(lease, log: ["fetched 3 rows", "done"])
        let text = try await cli.run(["logs", "lg"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.split(separator: "\n") == ["a | fetched 3 rows", "a | done"], "\(text.stdout)")
        let json = try await cli.run(["logs", "lg", "--json"])
        let lines = json.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.map { $0["key"] as? String } == ["a", "a"] && lines.first?["id"] as? String == "lg/a")
    }

    @Test func badArgumentsOfRunCommandsAreRefused() async throws {
        let cli = try await CLIHarness.make()
        for arguments in [["runs", "--definition", "a b"], ["runs", "--limit", "5000"], ["rerun", "bad id!"], ["rerun", "x", "--run", "no/slash"], ["logs", "no such!"]] {
            let result = try await cli.run(arguments + ["--json"])
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
        }
        #expect(try await cli.run(["rerun", "nosuchrun"]).status == 66)
        #expect(try await cli.run(["logs", "nosuchrun"]).status == 66)
    }
}
