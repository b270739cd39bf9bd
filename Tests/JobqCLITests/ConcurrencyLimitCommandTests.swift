import Foundation
import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// Concurrency limits from the CLI: `submit --concurrency-key/--concurrency-limit`, the file keys
/// (per task and in `defaults:`), what status and watch say about a held task, `jobq limits`,
/// and every refusal (exit 64, a stable code, nothing written).
@Suite("CLI: concurrency limits", .enabled(if: redisAvailable))
struct ConcurrencyLimitCommandTests {
    @Test func statusSaysATaskIsHeldByItsLimit() async throws {
        let cli = try await CLIHarness.make()
        // a claim of 10 takes two; the third is parked at the limit
        let claimed = try await cli.submitThreeAndHoldOne(workflow: "wl", ["--concurrency-key", "tenant-{payload.tenant}", "--concurrency-limit", "2"])

        let watch = try await cli.run(["watch", "wl", "--timeout", "1s"])
        #expect(watch.stdout.contains("c: PENDING  held by limit tenant-42 (2/2 running)"), "\(watch.stdout)")
        let status = try await cli.run(["status", "wl", "--json"])
        let tasks = try #require(try status.json()["tasks"] as? [[String: Any]])
        let c = try #require(tasks.first { $0["id"] as? String == "c" })
        #expect(c["detail"] as? String == "held by limit tenant-42 (2/2 running)")
        #expect(c["concurrency_key"] as? String == "tenant-42" && c["concurrency_limit"] as? Int == 2)

        let one = try await cli.run(["status", "c"])
        #expect(one.stdout.contains("limit      held by limit tenant-42 (2/2 running), 1 parked"), "\(one.stdout)")
        let oneJSON = try await cli.run(["status", "c", "--json"]).json()
        #expect(oneJSON["held_by_limit"] as? Bool == true && oneJSON["concurrency_running"] as? Int == 2)

        let limits = try await cli.run(["limits", "--json"]).json()
        let rows = try #require(limits["limits"] as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["key"] as? String == "tenant-42" && rows[0]["running"] as? Int == 2
                && rows[0]["limit"] as? Int == 2 && rows[0]["parked"] as? Int == 1, "\(rows)")
        let table = try await cli.run(["limits"])
        #expect(table.stdout.contains("tenant-42") && table.status == 0, "\(table.stdout)")

        // a slot frees: c runs, and says nothing of the limit any more
        _ = try await cli.coordinator.leases.complete([Completion(lease: claimed[0].lease, result: Array("null".utf8))])
        let after = try await cli.run(["watch", "wl", "--timeout", "1s"])
        #expect(after.stdout.contains("c: PENDING  queued"), "\(after.stdout)")
    }

    @Test func workflowFileKeysPerTaskAndInDefaults() async throws {
        let cli = try await CLIHarness.make()
        let file = try CLIHarness.temporaryFile("flow.yaml", """
            workflow: tenants
            defaults:
              concurrency_key: "tenant-{payload.tenant}"
              concurrency_limit: 1
            tasks:
              - id: one
                handler: jobq.noop
                payload: {tenant: a}
              - id: two
                handler: jobq.noop
                payload: {tenant: b}
                concurrency_limit: 3
              - id: three
                handler: jobq.noop
                payload: {}
                concurrency_key: global
            """)
        let submitted = try await cli.run(["submit", "-f", file, "--run", "t1"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(try await cli.coordinator.tasks.task("t1/one")?.concurrencyKey == "tenant-a")
        let two = try await cli.coordinator.tasks.task("t1/two")
        #expect(two?.concurrencyKey == "tenant-b" && two?.concurrencyLimit == 3)
        let three = try await cli.coordinator.tasks.task("t1/three")
        #expect(three?.concurrencyKey == "global" && three?.concurrencyLimit == 1)
    }

    @Test(arguments: [
        (["--concurrency-key", "k", "--concurrency-limit", "0"], "invalid_option", "concurrency_limit must be from 1 to 10000"),
        (["--concurrency-key", "k", "--concurrency-limit", "10001"], "invalid_option", "got 10001"),
        (["--concurrency-key", "k"], "invalid_option", "--concurrency-key needs --concurrency-limit"),
        (["--concurrency-limit", "2"], "invalid_option", "--concurrency-limit needs --concurrency-key"),
        (["--concurrency-key", "tenant-{payload.tenant}", "--concurrency-limit", "2"], "invalid_option", "no field payload.tenant"),
        (["--concurrency-key", "tenant {x}", "--concurrency-limit", "2"], "invalid_option", "unknown placeholder {x}"),
        (["--concurrency-key", "a b", "--concurrency-limit", "2"], "invalid_name", "expands to an invalid key"),
    ])
    func submitRefusesBadLimits(_ extra: [String], code: String, message: String) async throws {
        try await CLIHarness.make().expectSubmitRefused(extra, code: code, message: message)
    }
}

/// The file keys' refusals, in-process: the place of the offending key, the stable code.
@Suite("workflow files: concurrency_key / concurrency_limit")
struct ConcurrencyLimitFileTests: WorkflowFileParsing {
    @Test func badLimitsInAFileAreRefusedAtTheirPlace() {
        expectRefused("""
            tasks:
              - {id: a, handler: h, concurrency_key: k, concurrency_limit: 0}
            """, code: .invalidOption, message: "concurrency_limit must be from 1", place: "flow.yaml:2:")
        expectRefused("""
            tasks:
              - {id: a, handler: h, concurrency_key: k}
            """, code: .invalidOption, message: "`concurrency_key` needs a `concurrency_limit`", place: "flow.yaml:2:")
        expectRefused("""
            defaults:
              concurrency_limit: 2
            tasks:
              - {id: a, handler: h}
            """, code: .invalidOption, message: "`concurrency_limit` needs a `concurrency_key`", place: "flow.yaml:2:")
        expectRefused("""
            tasks:
              - id: a
                handler: h
                payload: {user: 1}
                concurrency_key: "tenant-{payload.tenant}"
                concurrency_limit: 1
            """, code: .invalidOption, message: "no field payload.tenant", place: "flow.yaml:5:")
    }
}
