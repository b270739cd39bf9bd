import Foundation
import JobqCore
import Testing

@testable import JobqCLI

/// `service: true` in a workflow file (docs/workflow-files.md, "Service tasks"): parsed onto the
/// spec, refused when not a boolean; through `jobq submit -f` an edge other than `always` to a
/// service is refused (exit 64, `invalid_option`, nothing written), and `jobq status --json`
/// carries `service`.
@Suite("Workflow file format: service tasks")
struct ServiceTaskFileTests: WorkflowFileParsing {
    @Test func serviceIsParsedOntoTheSpec() throws {
        let file = try parse("tasks:\n  - {id: db, handler: h, service: true}\n  - {id: use, handler: h, after: [db:always]}\n")
        #expect(file.entries.map(\.spec.service) == [true, false])
        let bad = #expect(throws: JobqError.self) { try parse("tasks:\n  - {id: a, handler: h, service: yes-please}\n") }
        #expect(bad?.code == .invalidOption && bad?.message.contains("`service` must be true or false") == true, "\(String(describing: bad))")
    }

    @Test func aSuccessEdgeToAServiceIsRefusedAndStatusShowsTheService() async throws {
        let cli = try await CLIHarness.make()
        let refused = try CLIHarness.temporaryFile("flow.yaml", "tasks:\n  - {id: db, handler: h, service: true}\n  - {id: use, handler: h, after: [db]}\n")
        let result = try await cli.run(["submit", "-f", refused, "--json"])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(try result.jsonError()["code"] as? String == "invalid_option")
        #expect(try await cli.keysInNamespace().isEmpty, "something was written")

        let good = try CLIHarness.temporaryFile("flow.yaml", "tasks:\n  - {id: db, handler: h, service: true}\n  - {id: use, handler: h, after: [db:always]}\n")
        #expect(try await cli.run(["submit", "-f", good, "--run", "r"]).status == 0)
        let status = try await cli.run(["status", "r", "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let tasks = try #require(try status.json()["tasks"] as? [[String: Any]])
        #expect(tasks.map { $0["service"] as? Bool } == [true, false])
        let human = try await cli.run(["status", "r"])
        #expect(human.stdout.contains("service"), "\(human.stdout)")
    }
}
