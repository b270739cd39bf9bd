import Foundation
import JobqCore
import JobqTestSupport
import Testing

/// `workflow: FILE` on a task: the file is checked as a whole before anything is written, and
/// a definition that includes itself (directly or not) is refused with `workflow_cycle`.
@Suite("workflow files: sub-workflows", .enabled(if: redisAvailable))
struct SubWorkflowFileTests {
    static func files(_ contents: [String: String]) throws -> String {
        let directory = NSTemporaryDirectory() + "jobq-sub-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in contents { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        return directory
    }

    @Test func aSubWorkflowFileBecomesAChildRunOfTheTask() async throws {
        let cli = try await CLIHarness.make()
        let directory = try Self.files([
            "top.yaml": """
                workflow: top
                tasks:
                  - {id: prepare, handler: jobq.echo, payload: 1}
                  - {id: build, workflow: parts/build.yaml, after: [prepare]}
                  - {id: ship, handler: jobq.echo, after: [build], payload: {built: !retval build}}
                """,
        ])
        try FileManager.default.createDirectory(atPath: directory + "/parts", withIntermediateDirectories: true)
        try """
            workflow: build
            window: 1
            output: link
            tasks:
              - sequence:
                  - {id: compile, handler: jobq.echo, payload: "objects"}
                  - {id: link, handler: jobq.echo, payload: "binary"}
            """.write(toFile: directory + "/parts/build.yaml", atomically: true, encoding: .utf8)
        let plan = try await cli.run(["submit", "-f", directory + "/top.yaml", "--dry-run", "--json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let tasks = try #require(try plan.json()["tasks"] as? [[String: Any]])
        #expect(tasks.map { $0["handler"] as? String } == ["jobq.echo", "jobq.run", "jobq.echo"])

        let submitted = try await cli.run(["submit", "-f", directory + "/top.yaml", "--run", "top1"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        // A real worker: the built-in jobq.run starts the child run top1.build; ship gets link's result.
        let worker = try await RunningCLI.start(
            ["--redis", cli.server.url, "--namespace", cli.namespace, "--enable-test-handlers", "--once", "--concurrency", "2"],
            executable: JobqBinary.workerPath
        )
        let waited = try await cli.run(["wait", "top1", "--timeout", "60s", "--json"])
        #expect(waited.status == 0, "\(waited.stdout)\(waited.stderr)")
        let drained = await worker.finish(timeout: .seconds(60))
        #expect(drained.status == 0, "\(drained.stderr)")
        let child = try await cli.run(["status", "top1.build", "--json"])
        #expect(child.status == 0, "\(child.stderr)")
        let record = try #require(try child.json()["run"] as? [String: Any])
        #expect(record["state"] as? String == "DONE" && record["definition"] as? String == "build")
        let build = try await cli.run(["status", "top1/build", "--json"]).json()
        #expect(build["handler"] as? String == "jobq.run" && build["child_run"] as? String == "top1.build")
        let ship = try await cli.run(["result", "top1/ship"])
        #expect(ship.trimmedOutput.replacingOccurrences(of: " ", with: "") == #"{"built":"binary"}"#, "\(ship.stdout)")
    }

    @Test func aDefinitionThatIncludesItselfIsRefused() async throws {
        let cli = try await CLIHarness.make()
        let directory = try Self.files([
            "a.yaml": "tasks:\n  - {id: x, workflow: b.yaml}\n",
            "b.yaml": "tasks:\n  - {id: y, handler: jobq.echo}\n  - {id: z, workflow: a.yaml, after: [y]}\n",
            "self.yaml": "tasks:\n  - {id: me, workflow: self.yaml}\n",
            "both.yaml": "tasks:\n  - {id: bad, handler: jobq.echo, workflow: b.yaml}\n",
        ])
        let before = try await cli.keysInNamespace()
        let indirect = try await cli.run(["submit", "-f", directory + "/a.yaml", "--json"])
        #expect(indirect.status == 64)
        #expect(try indirect.jsonError()["code"] as? String == "workflow_cycle")
        #expect(indirect.stderr.contains("a.yaml -> b.yaml -> a.yaml"), "\(indirect.stderr)")
        let direct = try await cli.run(["submit", "-f", directory + "/self.yaml"])
        #expect(direct.status == 64 && direct.stderr.contains("[workflow_cycle]"), "\(direct.stderr)")
        let both = try await cli.run(["submit", "-f", directory + "/both.yaml"])
        #expect(both.status == 64 && both.stderr.contains("not both"), "\(both.stderr)")
        let missing = try await cli.run(["submit", "-f", directory + "/b.yaml".replacingOccurrences(of: "b.yaml", with: "none.yaml")])
        #expect(missing.status == 66)
        #expect(try await cli.keysInNamespace() == before, "nothing was written")
    }
}
