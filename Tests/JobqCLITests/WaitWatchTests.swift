import Foundation
import JobqCore
import Testing

@Suite("wait and watch: event-driven, exit code = outcome", .enabled(if: redisAvailable))
struct WaitWatchTests {
    func twoStep(_ cli: CLIHarness) async throws {
        let path = try CLIHarness.temporaryFile("flow.yaml", """
            workflow: pair
            tasks:
              - {id: first, handler: h, retries: 0}
              - {id: second, handler: h, after: [first], retries: 0}
            """)
        #expect(try await cli.run(["submit", "-f", path, "--run", "pair"]).status == 0)
    }

    @Test func waitForATaskThatSucceeds() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "h", "--id", "t"])
        let waiter = try await cli.start(["wait", "t", "--json"])
        try await Task.sleep(for: .milliseconds(200))
        try await cli.complete("t", result: "42")
        let result = try await waitForExit(waiter, timeout: .seconds(30))
        #expect(result.status == 0, "\(result.stderr)")
        let json = try result.json()
        #expect(json["task"] as? String == "t")
        #expect(json["succeeded"] as? Bool == true)
        #expect((json["tasks"] as? [[String: Any]])?.first?["state"] as? String == "DONE")
    }

    @Test func waitForAWorkflowThatFails() async throws {
        let cli = try await CLIHarness.make()
        try await twoStep(cli)
        let waiter = try await cli.start(["wait", "pair"])
        try await Task.sleep(for: .milliseconds(300))
        try await cli.failFinal("pair/first", message: "no luck")
        let result = try await waitForExit(waiter, timeout: .seconds(30))
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains("1F + 1C"), "\(result.stdout)")
        #expect(result.stdout.contains("no luck"))
        #expect(result.stdout.contains("prerequisite first did not succeed"), "named by its key within the run")
    }

    @Test func waitOnAFinishedTaskReturnsAtOnce() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "h", "--id", "t"])
        try await cli.complete("t")
        let result = try await cli.run(["wait", "t"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("t DONE"))
        let quiet = try await cli.run(["wait", "t", "-q"])
        #expect(quiet.status == 0 && quiet.stdout.isEmpty)
    }

    @Test func waitTimesOutWith75() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "h", "--id", "slow"])
        let result = try await cli.run(["wait", "slow", "--timeout", "300ms", "--json"])
        #expect(result.status == 75)
        let error = try result.jsonError()
        #expect(error["code"] as? String == "timeout")
        #expect((error["message"] as? String)?.contains("jobq status slow") == true)
        let missing = try await cli.run(["wait", "ghost"])
        #expect(missing.status == 66)
    }

    @Test func watchPrintsChangesAndExitsWithTheOutcome() async throws {
        let cli = try await CLIHarness.make()
        try await twoStep(cli)
        let watcher = try await cli.start(["watch", "pair"])
        // The first snapshot is printed before anything moves.
        // (Each line is its own write: wait for both, not just for the first bytes.)
        var start = await watcher.firstOutput()
        let deadline = ContinuousClock.now + .seconds(20)
        while !start.contains("pair/second:") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            start = watcher.stdout
        }
        #expect(start.contains(" first: PENDING") && !start.contains("pair/first:"), "\(start)")
        #expect(start.contains(" second: PENDING"), "\(start)")
        let lease = try await cli.claim("pair/first")
        _ = try await cli.coordinator.leases.report(lease, progress: [ProgressEntry(current: 1, total: 2, status: "halfway")])
        try await Task.sleep(for: .milliseconds(200))
        _ = try await cli.coordinator.leases.complete([Completion(lease: lease, result: Array("1".utf8))])
        try await cli.complete("pair/second")
        let rest = try await waitForExit(watcher, timeout: .seconds(30))
        let output = rest.stdout
        #expect(rest.status == 0, "\(rest.stderr)")
        // Not a terminal: plain lines, no ANSI escapes.
        #expect(!output.contains("\u{1B}["))
        #expect(output.contains(" first: RUNNING -> DONE") || output.contains(" first: PENDING -> DONE"), "\(output)")
        #expect(output.contains(" second: RUNNING -> DONE") || output.contains(" second: PENDING -> DONE"), "\(output)")
        #expect(output.contains("pair: 2D = 2"), "\(output)")
        // The final table.
        #expect(output.contains("TASK"), "\(output)")
    }

    @Test func watchJSONEndsWithTheFinishedSnapshotAndFailureExitCode() async throws {
        let cli = try await CLIHarness.make()
        try await twoStep(cli)
        let watcher = try await cli.start(["watch", "pair", "--json"])
        let start = await watcher.firstOutput()
        try await cli.failFinal("pair/first")
        let result = try await waitForExit(watcher, timeout: .seconds(30))
        #expect(result.status == 1, "\(result.stderr)")
        _ = start
        let lines = result.stdout.split(separator: "\n")
        try #require(lines.count >= 2, "\(result.stdout)")  // (a failure here, not a crash of the whole run)
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lines[lines.count - 1].utf8)) as? [String: Any])
        #expect(last["finished"] as? Bool == true)
        #expect(last["succeeded"] as? Bool == false)
        #expect(last["summary"] as? String == "1F + 1C")
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["finished"] as? Bool == false)
    }

    @Test func watchTimeoutAndUnknownTarget() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "h", "--id", "idle"])
        let timedOut = try await cli.run(["watch", "idle", "--timeout", "300ms"])
        #expect(timedOut.status == 75)
        #expect(timedOut.stderr.contains("[timeout]"))
        let unknown = try await cli.run(["watch", "ghost"])
        #expect(unknown.status == 66)
    }
}

