import Foundation
import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// Uniqueness from the CLI: `submit --unique-key` with `--unique-for` / `--debounce` /
/// `--throttle`, `--json`'s `created: false` and the existing id, `status`, the event stream,
/// the file keys, and every refusal (a stable code, nothing written).
@Suite("CLI: unique keys, debounce, throttle", .enabled(if: redisAvailable))
struct UniquenessCommandTests {
    @Test func aSecondSubmitPrintsTheExistingTask() async throws {
        let cli = try await CLIHarness.make()
        let arguments = ["submit", "jobq.noop", "--payload", #"{"account":7}"#, "--unique-key", "sync-{payload.account}", "--unique-for", "until_finished", "--json"]
        let first = try await cli.run(arguments).json()
        #expect(first["created"] as? Bool == true && first["outcome"] as? String == "created" && first["unique_key"] as? String == "sync-7")
        let id = try #require(first["id"] as? String)
        let second = try await cli.run(arguments)
        #expect(second.status == 0, "\(second.stderr)")
        let again = try second.json()
        #expect(again["created"] as? Bool == false && again["outcome"] as? String == "deduplicated" && again["id"] as? String == id)
        let plain = try await cli.run(Array(arguments.dropLast()))
        #expect(plain.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == id)

        let status = try await cli.run(["status", id])
        #expect(status.stdout.contains("unique") && status.stdout.contains("sync-7 (until_finished)"), "\(status.stdout)")
        let json = try await cli.run(["status", id, "--json"]).json()
        #expect(json["unique_key"] as? String == "sync-7" && json["unique_mode"] as? String == "until_finished")
        let events = try await cli.run(["events", "--task", id, "--json"])
        #expect(events.stdout.contains("deduplicated"), "\(events.stdout)")

        // a file whose task holds the same key is refused whole while the key is held
        let file = try CLIHarness.temporaryFile("sync.yaml", """
            tasks:
              - {id: prepare, handler: jobq.noop}
              - {id: sync, handler: jobq.noop, after: prepare, payload: {account: 7}, unique_key: "sync-{payload.account}", unique_for: until_finished}
            """)
        let refused = try await cli.run(["submit", "-f", file, "--json"])
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(try refused.jsonError()["code"] as? String == "unique_held")
        _ = try await cli.coordinator.tasks.cancel(task: id)
        let run = try await cli.run(["submit", "-f", file, "--run", "s1"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try await cli.coordinator.tasks.task("s1/sync")?.uniqueKey == "sync-7")
    }

    @Test func debounceAndThrottleFromTheCommandLine() async throws {
        let cli = try await CLIHarness.make()
        let debounce = ["submit", "jobq.noop", "--unique-key", "index-{payload.doc}", "--debounce", "1h", "--json"]
        let first = try await cli.run(debounce + ["--payload", #"{"doc":1,"rev":1}"#]).json()
        let second = try await cli.run(debounce + ["--payload", #"{"doc":1,"rev":2}"#]).json()
        #expect(second["outcome"] as? String == "debounced" && second["id"] as? String == first["id"] as? String)
        let id = try #require(first["id"] as? String)
        #expect(try await cli.coordinator.tasks.task(id)?.payload == Array(#"{"doc":1,"rev":2}"#.utf8))

        let plan = try await cli.run(["submit", "jobq.noop", "--payload", #"{"doc":2}"#, "--unique-key", "index-{payload.doc}", "--debounce", "30s", "--dry-run", "--json"]).json()
        let planned = try #require((plan["tasks"] as? [[String: Any]])?.first)
        #expect(planned["unique_key"] as? String == "index-2" && planned["unique_mode"] as? String == "debounce 30s", "\(planned)")

        let throttle = ["submit", "jobq.noop", "--unique-key", "report", "--throttle", "1h", "--json"]
        let opened = try await cli.run(throttle).json()
        let inside = try await cli.run(throttle).json()
        #expect(inside["outcome"] as? String == "throttled" && inside["id"] as? String == opened["id"] as? String)
    }

    @Test(arguments: [
        (["--unique-key", "k"], "needs a scope"),
        (["--unique-for", "until_started"], "needs --unique-key"),
        (["--debounce", "30s"], "needs --unique-key"),
        (["--unique-key", "k", "--unique-for", "until_done"], "not a scope"),
        (["--unique-key", "k", "--unique-for", "0"], "from 1ms"),
        (["--unique-key", "k", "--throttle", "-1m"], "cannot be negative"),
        (["--unique-key", "k", "--debounce", "0s"], "from 1ms"),
        (["--unique-key", "k", "--unique-for", "until_started", "--throttle", "1m"], "different modes"),
        (["--unique-key", "k", "--debounce", "1s", "--delay", "5s"], "do not give a delay"),
        (["--unique-key", "sync-{payload.account}", "--unique-for", "until_started"], "no field payload.account"),
    ])
    func submitRefusesBadUniqueness(_ extra: [String], message: String) async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "jobq.noop", "--payload", #"{"other":1}"#, "--json"] + extra)
        #expect(result.status == 64, "\(extra): \(result.stderr)")
        let error = try result.jsonError()
        #expect(error["code"] as? String == "invalid_option", "\(extra): \(error)")
        #expect((error["message"] as? String)?.contains(message) == true, "\(extra): \(error)")
        #expect(try await cli.keysInNamespace().isEmpty)
    }
}

/// The file keys' refusals, in-process: the place of the offending key, the stable code.
@Suite("workflow files: unique_key / unique_for / throttle / debounce")
struct UniquenessFileTests: WorkflowFileParsing {
    @Test func badUniquenessInAFileIsRefusedAtItsPlace() {
        expectRefused("""
            tasks:
              - {id: a, handler: h, unique_key: k, unique_for: sometimes}
            """, code: .invalidOption, message: "not a scope", place: "flow.yaml:2:")
        expectRefused("""
            tasks:
              - {id: a, handler: h, unique_key: k}
            """, code: .invalidOption, message: "unique_key needs a scope", place: "flow.yaml:2:")
        expectRefused("""
            tasks:
              - {id: a, handler: h, throttle: 1m}
            """, code: .invalidOption, message: "throttle needs unique_key", place: "flow.yaml:2:")
        expectRefused("""
            tasks:
              - id: a
                handler: h
                unique_key: k
                debounce: 30s
            """, code: .invalidOption, message: "`debounce` applies to one standalone task", place: "flow.yaml:5:")
        expectRefused("""
            tasks:
              - {id: a, handler: h, unique_key: k, unique_for: 0s}
            """, code: .invalidOption, message: "from 1ms", place: "flow.yaml:2:")
        expectRefused("""
            tasks:
              - {id: a, handler: h, unique_key: "s-{payload.x}", unique_for: until_started}
            """, code: .invalidOption, message: "no field payload.x", place: "flow.yaml:2:")
    }
}
