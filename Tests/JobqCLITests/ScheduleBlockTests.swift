import Foundation
import JobqCore
import Testing

/// A workflow file's `schedule:` block: `jobq schedule add -f FILE` takes its timing, policies and
/// name (flags override each), `jobq submit -f FILE` refuses the file unless `--once`, and a bad
/// block is refused with its line and the code `schedule add` gives for the same flag.
@Suite("workflow files: the schedule: block", .enabled(if: redisAvailable))
struct ScheduleBlockTests {
    static let file = """
        workflow: nightly
        schedule:
          cron: "30 2 * * *"
          tz: Europe/Paris
          overlap: buffer
          catch_up: none
        tasks:
          - {id: fetch, handler: jobq.noop}
        """

    @Test func scheduleAddTakesTheBlockAndFlagsOverrideIt() async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("nightly.yaml", Self.file)
        let added = try await cli.run(["schedule", "add", "-f", path, "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let json = try added.json()
        #expect(json["name"] as? String == "nightly" && json["tz"] as? String == "Europe/Paris", "\(json)")
        #expect(json["overlap"] as? String == "buffer" && json["catch_up"] as? String == "none", "\(json)")
        // flags win: another name, an interval instead of the cron, another overlap
        let other = try await cli.run(["schedule", "add", "often", "-f", path, "--every", "90s", "--overlap", "allow", "--json"]).json()
        #expect(other["name"] as? String == "often" && other["every_ms"] as? Int == 90_000 && other["overlap"] as? String == "allow", "\(other)")
        #expect(other["catch_up"] as? String == "none", "the block's catch_up stays: \(other)")
        // the block's own name wins over the workflow name
        let named = try CLIHarness.temporaryFile("named.yaml", Self.file.replacingOccurrences(of: "schedule:\n", with: "schedule:\n  name: nightly-paris\n"))
        #expect(try await cli.run(["schedule", "add", "-f", named, "--json"]).json()["name"] as? String == "nightly-paris")
    }

    @Test func submitRefusesAScheduledFileUnlessOnce() async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("nightly.yaml", Self.file)
        let refused = try await cli.run(["submit", "-f", path, "--json"])
        #expect(refused.status == 64, "\(refused.stderr)")
        let error = try refused.jsonError()
        #expect(error["code"] as? String == "invalid_option")
        #expect((error["message"] as? String)?.contains("jobq schedule add -f") == true, "\(error)")
        #expect(try await cli.keysInNamespace().isEmpty)
        let once = try await cli.run(["submit", "-f", path, "--once", "--run", "n1"])
        #expect(once.status == 0, "\(once.stderr)")
        #expect(try await cli.state("n1/fetch") == .pending)
    }

    @Test func aScheduledFileCannotHaveUniqueKeys() async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("sync.yaml", """
            schedule: {every: 1m}
            tasks:
              - {id: sync, handler: jobq.noop, unique_key: sync, unique_for: until_finished}
            """)
        let result = try await cli.run(["schedule", "add", "-f", path, "--json"])
        #expect(result.status == 64, "\(result.stderr)")
        let error = try result.jsonError()
        #expect(error["code"] as? String == "invalid_option" && (error["message"] as? String)?.contains("--overlap") == true, "\(error)")
        #expect(try await cli.keysInNamespace().isEmpty)
    }

    @Test(arguments: [
        ("schedule:\n  cron: \"not a cron\"\n", "invalid_schedule", ":3:"),
        ("schedule:\n  cron: \"@daily\"\n  every: 1m\n", "invalid_schedule", ":4:"),
        ("schedule:\n  every: 500ms\n", "invalid_schedule", ":3:"),
        ("schedule:\n  every: soon\n", "invalid_schedule", ":3:"),
        ("schedule:\n  every: 1m\n  tz: Europe/Paris\n", "invalid_schedule", ":4:"),
        ("schedule:\n  cron: \"@daily\"\n  tz: Atlantis/Nowhere\n", "invalid_schedule", ":3:"),
        ("schedule:\n  every: 1m\n  overlap: queue\n", "invalid_option", ":4:"),
        ("schedule:\n  every: 1m\n  catch_up: some\n", "invalid_option", ":4:"),
        ("schedule:\n  every: 1m\n  name: \"no:colons\"\n", "invalid_name", ":4:"),
        ("schedule:\n  every: 1m\n  when: now\n", "invalid_workflow_file", ":4:"),
    ])
    func badBlocksAreRefusedAtTheirLine(_ block: String, code: String, place: String) async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("bad.yaml", "workflow: w\n" + block + "tasks:\n  - {id: a, handler: jobq.noop}\n")
        for command in [["schedule", "add", "s", "-f", path, "--json"], ["submit", "-f", path, "--once", "--json"]] {
            let result = try await cli.run(command)
            #expect(result.status == 64, "\(command) \(block): \(result.stderr)")
            let error = try result.jsonError()
            #expect(error["code"] as? String == code, "\(block): \(error)")
            #expect((error["message"] as? String)?.contains("bad.yaml" + place) == true, "\(block): \(error)")
        }
        #expect(try await cli.keysInNamespace().isEmpty)
    }
}
