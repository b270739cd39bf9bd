import Foundation
import JobqCore
import JobqTestSupport
import Testing

@Suite("jobq coordinator", .enabled(if: redisAvailable))
struct CoordinatorCommandTests {
    /// With no worker running, one pass promotes a due delayed task and reaps an expired lease.
    @Test func oneMaintenancePass() async throws {
        let cli = try await CLIHarness.make()
        #expect(try await cli.run(["submit", "h", "--id", "later", "--delay", "200ms"]).status == 0)
        #expect(try await cli.run(["submit", "h", "--id", "held"]).status == 0)
        let claimed = try #require(try await cli.coordinator.leases.claim(queues: ["default"], count: 1, lease: .milliseconds(100), worker: "gone").first)
        #expect(claimed.id == "held")
        try await Task.sleep(for: .milliseconds(400))
        let pass = try await cli.run(["coordinator", "--once", "--json"])
        #expect(pass.status == 0, "\(pass.stderr)")
        let json = try pass.json()
        #expect(json["ran"] as? Bool == true)
        #expect(json["reaped"] as? Int == 1)
        #expect(json["promoted"] as? Int == 1)
        #expect(try await cli.state("held") == .pending)
        #expect(Set(try await cli.coordinator.leases.claim(queues: ["default"], count: 5, lease: .seconds(5), worker: "w").map(\.id)) == ["later", "held"])
        let human = try await cli.run(["coordinator", "--once", "--interval", "50ms"])
        #expect(human.status == 0)
        #expect(human.trimmedOutput.hasPrefix("reaped 0, promoted 0") || human.trimmedOutput.hasPrefix("another process"))
    }

    /// `--metrics-port 0` serves the namespace's state at /metrics on 127.0.0.1 while the
    /// maintenance passes run; the address is printed on stderr.
    @Test func servesClusterMetrics() async throws {
        let cli = try await CLIHarness.make()
        #expect(try await cli.run(["submit", "h", "--queue", "mail"]).status == 0)
        #expect(try await cli.run(["submit", "h", "--queue", "mail"]).status == 0)
        #expect(try await cli.run(["pause", "mail"]).status == 0)
        let running = try await cli.start(["coordinator", "--metrics-port", "0", "--interval", "100ms"])
        defer { running.process.terminate() }
        var port: Int?
        let deadline = ContinuousClock.now + .seconds(20)
        while port == nil && ContinuousClock.now < deadline && running.process.isRunning {
            if let match = running.stderr.firstMatch(of: /serving metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/) { port = Int(match.1) }
            try await Task.sleep(for: .milliseconds(20))
        }
        let bound = try #require(port, "no address on stderr: \(running.stderr)")
        let reply = try await httpRequest(port: bound, path: "/metrics")
        #expect(reply.status == 200)
        #expect(reply.body.contains("jobq_queue_tasks{queue=\"mail\",lane=\"ready\"} 2"), "\(reply.body)")
        #expect(reply.body.contains("jobq_queue_paused{queue=\"mail\"} 1"))
        #expect(reply.body.contains("jobq_tasks_submitted_total 2"))
        #expect(try await httpRequest(port: bound, path: "/healthz").status == 200)

        // The port is taken now: a second coordinator is refused before its first pass.
        let taken = try await cli.run(["coordinator", "--metrics-port", String(bound), "--json"])
        #expect(taken.status == 69, "\(taken.stderr)")
        #expect(try taken.jsonError()["code"] as? String == "cannot_listen")
        running.process.terminate()
        _ = await running.finish(timeout: .seconds(10))
    }

    /// Bad metrics options are refused with invalid_option (exit 64), before any pass.
    @Test(arguments: [
        ["--metrics-port", "70000"],
        ["--metrics-port=-1"],
        ["--metrics-port", "0", "--metrics-host", "localhost"],
        ["--metrics-port", "0", "--metrics-address", "300.1.1.1"],
        ["--metrics-host", "127.0.0.1"],
        ["--metrics-port", "0", "--once"],
    ])
    func refusesBadMetricsOptions(_ options: [String]) async throws {
        let cli = try await CLIHarness.make()
        #expect(try await cli.run(["submit", "h", "--id", "later", "--delay", "1ms"]).status == 0)
        try await Task.sleep(for: .milliseconds(20))
        let result = try await cli.run(["coordinator"] + options + ["--json"])
        #expect(result.status == 64, "\(options): \(result.stderr)")
        #expect(try result.jsonError()["code"] as? String == "invalid_option")
        // no pass ran: the due delayed task was not promoted
        #expect(try await cli.coordinator.inspector.overview().delayed == 1)
    }
}
