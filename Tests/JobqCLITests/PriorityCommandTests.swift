import Foundation
@testable import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// Task priorities in files and on the command line (`--priority` ranges: SubmitNumericOptionTests):
/// `priority:` in a task and in `defaults:`, refused values, and what status, list and queues show.
@Suite("priorities in the CLI", .enabled(if: redisAvailable))
struct PriorityCommandTests: WorkflowFileParsing {
    @Test func priorityInAFileComesFromTheTaskOrTheDefaults() throws {
        let file = try parse("""
            defaults: {priority: 5}
            tasks:
              - {id: a, handler: h}
              - {id: b, handler: h, priority: -100}
              - {id: c, handler: h, priority: 0}
            """)
        #expect(file.entries.map(\.spec.priority) == [5, -100, 0])
        #expect(try parse("tasks: [{id: a, handler: h}]").entries.map(\.spec.priority) == [0])
    }

    @Test(arguments: [
        ("  - {id: a, handler: h, priority: 101}", "got 101", "flow.yaml:2:"),
        ("  - {id: a, handler: h, priority: -101}", "got -101", "flow.yaml:2:"),
        ("  - {id: a, handler: h, priority: 1.5}", "got 1.5", "flow.yaml:2:"),
        ("  - {id: a, handler: h, priority: high}", "got a string", "flow.yaml:2:"),
    ])
    func aBadPriorityInAFileIsRefusedWithItsPlace(line: String, got: String, place: String) {
        expectRefused("tasks:\n" + line, code: .invalidOption, message: "`priority` must be a whole number from -100 to 100 (higher first); " + got, place: place)
    }

    @Test func aBadPriorityInAFileWritesNothing() async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "-f", "-", "--json"], stdin: "tasks:\n  - {id: a, handler: h}\n  - {id: b, handler: h, priority: 200}\n")
        #expect(result.status != 0)
        #expect(try result.jsonError()["code"] as? String == "invalid_option", "\(result.stderr)")
        #expect(try await cli.keysInNamespace().isEmpty)
    }

    @Test func aPriorityThatIsNotANumberIsRefusedOnTheCommandLine() async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "jobq.noop", "--priority", "high", "--json"])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(try await cli.keysInNamespace().isEmpty)
    }

    @Test func statusListAndQueuesShowPriorities() async throws {
        let cli = try await CLIHarness.make()
        #expect(try await cli.run(["submit", "jobq.noop", "--id", "urgent", "--priority", "9"]).status == 0)
        #expect(try await cli.run(["submit", "jobq.noop", "--id", "plain"]).status == 0)
        let fromFile = try await cli.run(["submit", "-f", "-"], stdin: "defaults: {priority: -3}\ntasks:\n  - {id: later, handler: jobq.noop}\n")
        #expect(fromFile.status == 0, "\(fromFile.stderr)")

        let status = try await cli.run(["status", "urgent"])
        #expect(status.stdout.contains("priority: 9"), "\(status.stdout)")
        #expect(!(try await cli.run(["status", "plain"]).stdout.contains("priority")), "the default is not shown")
        #expect(try await cli.run(["status", "urgent", "--json"]).json()["priority"] as? Int == 9)
        let later = fromFile.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/later"
        #expect(try await cli.run(["status", later, "--json"]).json()["priority"] as? Int == -3)

        let list = try await cli.run(["list", "--state", "pending", "--json"]).json()
        let tasks = list["tasks"] as? [[String: Any]] ?? []
        #expect(tasks.compactMap { $0["id"] as? String } == ["urgent", "plain", later], "pending in claim order: \(tasks)")
        #expect(tasks.compactMap { $0["priority"] as? Int } == [9, 0, -3])

        let queues = try await cli.run(["queues", "--json"]).json()
        let first = (queues["queues"] as? [[String: Any]])?.first
        #expect(first?["ready"] as? Int == 3, "every priority counts: \(queues)")
    }
}
