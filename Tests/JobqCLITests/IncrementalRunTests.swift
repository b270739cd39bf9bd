import Foundation
import JobqCore
import Testing

/// Incremental runs from the command line: a file with cache keys run twice (the second run ends
/// DONE `cached` without anything to claim), a changed payload runs, OUTDATED after `jobq retry`
/// of an upstream task in status, graph and `--json`, `jobq rerun RUN --outdated` re-running
/// exactly the outdated tasks and their dependents, and bad cache keys refused with nothing written.
@Suite("CLI: incremental runs (cache_key, OUTDATED, rerun --outdated)", .enabled(if: redisAvailable))
struct IncrementalRunTests {
    static func file(url: String = "a") throws -> String {
        try CLIHarness.temporaryFile("flow.yaml", """
            workflow: etl
            tasks:
              - {id: fetch, handler: jobq.noop, payload: {url: \(url)}, cache_key: "{handler}:{payload}"}
              - {id: build, handler: jobq.noop, after: [fetch], cache_key: "build-v1:{result:fetch}"}
            """)
    }

    /// The tasks of `status RUN --json`, by key.
    static func tasks(_ cli: CLIHarness, _ run: String) async throws -> [String: [String: Any]] {
        let status = try await cli.run(["status", run, "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let tasks = try #require(try status.json()["tasks"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: tasks.compactMap { task in (task["id"] as? String).map { (RunScope.key(of: $0), task) } })
    }

    /// Everything claimable now (handed back at once).
    static func claimable(_ cli: CLIHarness) async throws -> [String] {
        let claimed = try await cli.coordinator.leases.claim(queues: ["default"], count: 100, lease: .seconds(60), worker: "probe")
        if !claimed.isEmpty {
            _ = try await cli.coordinator.leases.fail(claimed.map { Failure(lease: $0.lease, mode: .handBack, reason: "test", message: "") })
        }
        return claimed.map(\.id).sorted()
    }

    @Test func theSameFileTwiceIsCachedAndAChangedPayloadRuns() async throws {
        let cli = try await CLIHarness.make()
        let path = try Self.file()
        #expect(try await cli.run(["submit", "-f", path, "--run", "r1"]).status == 0)
        try await cli.complete("r1/fetch", result: #"{"rows": 3}"#)
        try await cli.complete("r1/build", result: #""built""#)

        let second = try await cli.run(["submit", "-f", path, "--run", "r2"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try await Self.claimable(cli).isEmpty, "the second run's tasks ended from the cache: nothing runs")
        let tasks = try await Self.tasks(cli, "r2")
        #expect(tasks["fetch"]?["state"] as? String == "DONE" && tasks["fetch"]?["cached"] as? String == "r1/fetch")
        #expect(tasks["build"]?["state"] as? String == "DONE" && tasks["build"]?["cached"] as? String == "r1/build")
        #expect(tasks["build"]?["reason"] as? String == "cached")
        let table = try await cli.run(["status", "r2"])
        #expect(table.stdout.contains("CACHED") && table.stdout.contains("cached: result of r1/build"), "\(table.stdout)")
        let detail = try await cli.run(["status", "r2/build"])
        #expect(detail.stdout.contains("cached: result of r1/build"), "\(detail.stdout) \(detail.stderr)")
        let result = try await cli.run(["result", "r2/build"])
        #expect(result.trimmedOutput == #""built""#, "the producer's result")

        // Another payload: another key, so fetch runs.
        #expect(try await cli.run(["submit", "-f", try Self.file(url: "b"), "--run", "r3"]).status == 0)
        #expect(try await Self.claimable(cli) == ["r3/fetch"])
    }

    @Test func retryingAnUpstreamTaskMakesItsDependentsOutdatedAndRerunOutdatedReRunsOnlyThem() async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("report.yaml", """
            workflow: nightly
            tasks:
              - {id: fetch, handler: jobq.noop}
              - {id: report, handler: jobq.noop, after: [{id: fetch, policy: always}]}
              - {id: publish, handler: jobq.noop, after: [report]}
              - {id: other, handler: jobq.noop}
            """)
        #expect(try await cli.run(["submit", "-f", path, "--run", "n1"]).status == 0)
        try await cli.failFinal("n1/fetch")
        try await cli.complete("n1/report")
        try await cli.complete("n1/publish")
        try await cli.complete("n1/other")
        let refused = try await cli.run(["rerun", "n1", "--outdated", "--json"])
        #expect(refused.status == 0, "\(refused.stderr)")
        let none = try refused.json()["reopened"] as? [String]
        #expect(none == [], "nothing is outdated yet: \(refused.stdout)")

        #expect(try await cli.run(["retry", "n1/fetch"]).status == 0)
        try await cli.complete("n1/fetch")
        var tasks = try await Self.tasks(cli, "n1")
        #expect(tasks["report"]?["outdated"] as? Bool == true)
        #expect(tasks["publish"]?["outdated"] as? Bool == false && tasks["other"]?["outdated"] as? Bool == false)
        let table = try await cli.run(["status", "n1"])
        #expect(table.stdout.split(separator: "\n").contains { $0.contains("report") && $0.contains("OUTDATED") }, "\(table.stdout)")
        let graph = try await cli.run(["graph", "n1", "--json"])
        let nodes = try #require(try graph.json()["nodes"] as? [[String: Any]])
        #expect(nodes.filter { $0["outdated"] as? Bool == true }.compactMap { $0["id"] as? String } == ["n1/report"])
        let dot = try await cli.run(["graph", "n1"])
        #expect(dot.stdout.contains("(OUTDATED)"), "\(dot.stdout)")

        let rerun = try await cli.run(["rerun", "n1", "--outdated", "--json"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(Set(try #require(try rerun.json()["reopened"] as? [String])) == ["n1/report", "n1/publish"])
        // Only report is ready (publish waits for it); fetch and other do not run again.
        #expect(try await Self.claimable(cli) == ["n1/report"])
        try await cli.complete("n1/report")
        #expect(try await Self.claimable(cli) == ["n1/publish"])
        try await cli.complete("n1/publish")
        tasks = try await Self.tasks(cli, "n1")
        #expect(tasks.values.allSatisfy { $0["state"] as? String == "DONE" && $0["outdated"] as? Bool == false })
        #expect(try await cli.coordinator.tasks.task("n1/other")?.attempts == 1, "other ran once")
    }

    @Test func rerunOutdatedOfARunningRunIsRefused() async throws {
        let cli = try await CLIHarness.make()
        let path = try Self.file()
        #expect(try await cli.run(["submit", "-f", path, "--run", "live"]).status == 0)
        let refused = try await cli.run(["rerun", "live", "--outdated"])
        #expect(refused.status == 65, "\(refused.stderr)")
        let missing = try await cli.run(["rerun", "nope", "--outdated"])
        #expect(missing.status == 66, "\(missing.stderr)")
    }

    @Test(arguments: [
        ("{result:lint}", "not a prerequisite"),
        ("{handler", "not closed"),
        ("{when}", "unknown placeholder"),
    ])
    func badCacheKeysAreRefusedWithNothingWritten(template: String, message: String) async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("bad.yaml", """
            tasks:
              - {id: fetch, handler: jobq.noop}
              - {id: build, handler: jobq.noop, after: [fetch], cache_key: "\(template)"}
            """)
        let result = try await cli.run(["submit", "-f", path, "--json"])
        #expect(result.status == 64, "\(result.stderr)")
        let error = try result.jsonError()
        #expect(error["code"] as? String == "invalid_cache_key")
        #expect((error["message"] as? String)?.contains(message) == true, "\(error)")
        #expect((error["message"] as? String)?.contains("bad.yaml:3:") == true, "\(error)")
        #expect(try await cli.keysInNamespace().isEmpty)
    }
}
