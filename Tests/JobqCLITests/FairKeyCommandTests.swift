import Foundation
@testable import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// Fair keys in files and on the command line: `fair_key:` in a task and in `defaults:`,
/// `--fair-key`, refused templates (nothing written), and what status, list and queues show.
@Suite("fair keys in the CLI", .enabled(if: redisAvailable))
struct FairKeyCommandTests: WorkflowFileParsing {
    @Test func aFairKeyInAFileComesFromTheTaskOrTheDefaults() throws {
        let file = try parse("""
            defaults: {fair_key: "tenant-{payload.tenant}"}
            tasks:
              - {id: a, handler: h, payload: {tenant: 1}}
              - {id: b, handler: h, fair_key: bulk}
            """)
        #expect(file.entries.map(\.spec.fairKey) == ["tenant-{payload.tenant}", "bulk"])
        #expect(try parse("tasks: [{id: a, handler: h}]").entries.map(\.spec.fairKey) == [nil])
    }

    @Test(arguments: [
        ("  - {id: a, handler: h, fair_key: \"t-{payload.tenant}\"}", JobqError.Code.invalidOption, "payload.tenant"),
        ("  - {id: a, handler: h, fair_key: \"t-{tenant}\"}", JobqError.Code.invalidOption, "unknown placeholder"),
        ("  - {id: a, handler: h, fair_key: \"a b\"}", JobqError.Code.invalidName, "fair key"),
    ])
    func aBadFairKeyInAFileIsRefusedWithItsPlace(line: String, code: JobqError.Code, message: String) {
        expectRefused("tasks:\n" + line, code: code, message: message, place: "flow.yaml:2:")
    }

    @Test func aBadFairKeyOnTheCommandLineWritesNothing() async throws {
        let cli = try await CLIHarness.make()
        for (arguments, code) in [
            (["--fair-key", "tenant-{payload.tenant}"], "invalid_option"),
            (["--payload", #"{"tenant": "a b"}"#, "--fair-key", "tenant-{payload.tenant}"], "invalid_name"),
        ] {
            let result = try await cli.run(["submit", "jobq.noop", "--json"] + arguments)
            #expect(result.status == 64, "\(result.stderr)")
            #expect(try result.jsonError()["code"] as? String == code, "\(result.stderr)")
        }
        let file = try await cli.run(["submit", "-f", "-", "--json"], stdin: "tasks:\n  - {id: a, handler: h}\n  - {id: b, handler: h, fair_key: \"{payload.x}\"}\n")
        #expect(try file.jsonError()["code"] as? String == "invalid_option", "\(file.stderr)")
        #expect(try await cli.keysInNamespace().isEmpty)
    }

    @Test func statusListAndQueuesShowFairKeys() async throws {
        let cli = try await CLIHarness.make()
        let dry = try await cli.run(["submit", "jobq.noop", "--payload", #"{"tenant": "z"}"#, "--fair-key", "t-{payload.tenant}", "--dry-run", "--json"])
        #expect(dry.stdout.contains(#""fair_key":"t-z""#) || dry.stdout.contains(#""fair_key": "t-z""#), "\(dry.stdout)")
        for index in 0..<3 {
            let result = try await cli.run(["submit", "jobq.noop", "--id", "a\(index)", "--payload", #"{"tenant": "a"}"#, "--fair-key", "tenant-{payload.tenant}"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let fromFile = try await cli.run(["submit", "-f", "-"], stdin: "defaults: {fair_key: \"tenant-{payload.tenant}\"}\ntasks:\n  - {id: b, handler: jobq.noop, payload: {tenant: b}}\n")
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(try await cli.run(["submit", "jobq.noop", "--id", "plain"]).status == 0)

        let status = try await cli.run(["status", "a0"])
        #expect(status.stdout.contains("fair key") && status.stdout.contains("tenant-a"), "\(status.stdout)")
        #expect(!(try await cli.run(["status", "plain"]).stdout.contains("fair key")), "none is not shown")
        #expect(try await cli.run(["status", "a0", "--json"]).json()["fair_key"] as? String == "tenant-a")
        #expect(try await cli.run(["status", "plain", "--json"]).json()["fair_key"] is NSNull)

        // pending, in the order claims take them: the keys' lists before the plain list
        let list = try await cli.run(["list", "--state", "pending", "--json"]).json()
        let ids = (list["tasks"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(Set(ids).count == 5 && ids.contains("plain") && ids.contains("a2"), "\(ids)")

        let queues = try await cli.run(["queues", "--json"]).json()
        let first = (queues["queues"] as? [[String: Any]])?.first
        #expect(first?["ready"] as? Int == 5, "the keys' lists count: \(queues)")
        #expect(first?["fair_keys"] as? Int == 2, "\(queues)")
        let table = try await cli.run(["queues"])
        #expect(table.stdout.contains("FAIR KEYS"), "\(table.stdout)")
    }
}
