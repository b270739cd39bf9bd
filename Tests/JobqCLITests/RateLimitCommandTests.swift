import Foundation
import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// Rate limits from the CLI: `submit --rate-key/--rate-limit`, the file keys (per task and in
/// `defaults:`), what status and watch say about a task held back by its rate, `jobq limits`,
/// and every refusal (exit 64, a stable code, nothing written).
@Suite("CLI: rate limits", .enabled(if: redisAvailable))
struct RateLimitCommandTests {
    @Test func statusAndLimitsSayATaskIsRateLimited() async throws {
        let cli = try await CLIHarness.make()
        // a claim of 10 starts two; the third is parked over the rate
        _ = try await cli.submitThreeAndHoldOne(workflow: "wr", ["--rate-key", "api-{payload.tenant}", "--rate-limit", "2/1h"])

        let watch = try await cli.run(["watch", "wr", "--timeout", "1s"])
        #expect(watch.stdout.contains("c: PENDING  rate limited until"), "\(watch.stdout)")
        #expect(watch.stdout.contains("(api-42, 2/1h)"), "\(watch.stdout)")
        let status = try await cli.run(["status", "wr", "--json"])
        let tasks = try #require(try status.json()["tasks"] as? [[String: Any]])
        let c = try #require(tasks.first { $0["id"] as? String == "c" })
        #expect((c["detail"] as? String)?.hasPrefix("rate limited until") == true, "\(c)")
        #expect(c["rate_key"] as? String == "api-42" && c["rate_limit"] as? String == "2/1h")

        let one = try await cli.run(["status", "c"])
        #expect(one.stdout.contains("rate       rate limited until"), "\(one.stdout)")
        let oneJSON = try await cli.run(["status", "c", "--json"]).json()
        #expect(oneJSON["rate_limited"] as? Bool == true && oneJSON["rate_starts_left"] as? Int == 0, "\(oneJSON)")
        #expect(oneJSON["rate_wake_at"] as? String != nil)

        let limits = try await cli.run(["limits", "--json"]).json()
        let rows = try #require(limits["rate_limits"] as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["key"] as? String == "api-42" && rows[0]["rate"] as? String == "2/1h"
                && rows[0]["starts_left"] as? Int == 0 && rows[0]["parked"] as? Int == 1, "\(rows)")
        #expect(limits["rate_keys_total"] as? Int == 1)
        let table = try await cli.run(["limits"])
        #expect(table.stdout.contains("api-42") && table.stdout.contains("2/1h") && table.status == 0, "\(table.stdout)")
    }

    @Test func workflowFileKeysPerTaskAndInDefaults() async throws {
        let cli = try await CLIHarness.make()
        let file = try CLIHarness.temporaryFile("rates.yaml", """
            workflow: rates
            defaults:
              rate_key: "api-{payload.tenant}"
              rate_limit: 100/1m
            tasks:
              - id: one
                handler: jobq.noop
                payload: {tenant: a}
              - id: two
                handler: jobq.noop
                payload: {tenant: b}
                rate_limit: 5/s
              - id: three
                handler: jobq.noop
                payload: {}
                rate_key: global
            """)
        let submitted = try await cli.run(["submit", "-f", file, "--run", "r1"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(try await cli.coordinator.tasks.task("r1/one")?.rate == RateLimit(100, per: .seconds(60), key: "api-a"))
        #expect(try await cli.coordinator.tasks.task("r1/two")?.rate == RateLimit(5, per: .seconds(1), key: "api-b"))
        #expect(try await cli.coordinator.tasks.task("r1/three")?.rate == RateLimit(100, per: .seconds(60), key: "global"))
        // a rate alone limits the queue
        let queue = try await cli.run(["submit", "jobq.noop", "--id", "q", "--rate-limit", "10/1m", "--dry-run", "--json"])
        let task = try #require((try queue.json()["tasks"] as? [[String: Any]])?.first)
        #expect(task["rate_key"] as? String == "queue.default" && task["rate_limit"] as? String == "10/1m", "\(task)")
    }

    @Test(arguments: [
        (["--rate-limit", "0/1m"], "invalid_option", "rate_limit must allow 1 to 10000"),
        (["--rate-limit", "10001/1m"], "invalid_option", "got 10001"),
        (["--rate-limit", "10/0s"], "invalid_option", "interval must be from 1ms"),
        (["--rate-limit", "10/soon"], "invalid_option", "is not a duration"),
        (["--rate-limit", "lots"], "invalid_option", "is not a rate"),
        (["--rate-key", "k"], "invalid_option", "--rate-key needs --rate-limit"),
        (["--rate-key", "api-{payload.tenant}", "--rate-limit", "5/s"], "invalid_option", "no field payload.tenant"),
        (["--rate-key", "a b", "--rate-limit", "5/s"], "invalid_name", "expands to an invalid key"),
    ])
    func submitRefusesBadRates(_ extra: [String], code: String, message: String) async throws {
        try await CLIHarness.make().expectSubmitRefused(extra, code: code, message: message)
    }
}

/// The file keys' refusals, in-process: the place of the offending key, the stable code.
@Suite("workflow files: rate_key / rate_limit")
struct RateLimitFileTests: WorkflowFileParsing {
    @Test func badRatesInAFileAreRefusedAtTheirPlace() {
        expectRefused("""
            tasks:
              - {id: a, handler: h, rate_limit: 0/1m}
            """, code: .invalidOption, message: "rate_limit must allow 1 to", place: "flow.yaml:2:")
        expectRefused("""
            tasks:
              - {id: a, handler: h, rate_limit: 5/0ms}
            """, code: .invalidOption, message: "interval must be from 1ms", place: "flow.yaml:2:")
        expectRefused("""
            tasks:
              - {id: a, handler: h, rate_limit: fast}
            """, code: .invalidOption, message: "is not a rate", place: "flow.yaml:2:")
        expectRefused("""
            defaults:
              rate_key: k
            tasks:
              - {id: a, handler: h}
            """, code: .invalidOption, message: "`rate_key` needs a `rate_limit`", place: "flow.yaml:2:")
        expectRefused("""
            tasks:
              - id: a
                handler: h
                payload: {user: 1}
                rate_key: "api-{payload.tenant}"
                rate_limit: 5/s
            """, code: .invalidOption, message: "no field payload.tenant", place: "flow.yaml:5:")
    }
}
