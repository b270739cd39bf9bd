import Foundation
import JobqCore
import JobqTestSupport
import Testing

/// `jobq wait` is a read: a Redis restart that workers survive must not end it. It reconnects,
/// looks again, and returns the outcome.
@Suite("wait survives a Redis restart", .enabled(if: redisAvailable), .serialized)
struct WaitRestartTests {
    @Test func waitReconnectsAfterAThreeSecondRestart() async throws {
        // AOF on: the task submitted before the restart is still there after it.
        try await withRedisServer(extraConfig: ["appendonly yes"]) { server in
            let namespace = "restart"
            let cli = CLIHarness(server: server, namespace: namespace, coordinator: try Coordinator(redis: server.makeClient(), namespace: namespace))
            let submit = try await cli.run(["submit", "h", "--id", "t"])
            #expect(submit.status == 0, "\(submit.stderr)")
            let waiter = try await cli.start(["wait", "t", "--json"])
            try await Task.sleep(for: .milliseconds(500))
            #expect(waiter.process.isRunning, "wait ended before the restart: \(waiter.stderr)")

            await server.kill()
            try await Task.sleep(for: .seconds(3))
            #expect(waiter.process.isRunning, "wait gave up while Redis was down: \(waiter.stderr)")
            try await server.launch()
            #expect(try await cli.state("t") == .pending)
            try await cli.complete("t", result: "7")

            let result = try await waitForExit(waiter, timeout: .seconds(40))
            #expect(result.status == 0, "\(result.stderr)")
            let json = try result.json()
            #expect(json["succeeded"] as? Bool == true, "\(result.stdout)")
            #expect(!result.stderr.contains("may or may not have been applied"), "\(result.stderr)")
            await cli.coordinator.redis.close()
        }
    }

    @Test func aRedisThatStaysAwayEndsTheWaitWithAReadMessage() async throws {
        try await withRedisServer { server in
            let namespace = "gone"
            let cli = CLIHarness(server: server, namespace: namespace, coordinator: try Coordinator(redis: server.makeClient(), namespace: namespace))
            #expect(try await cli.run(["submit", "h", "--id", "t"]).status == 0)
            let waiter = try await cli.start(["wait", "t", "--timeout", "4s", "--json"])
            try await Task.sleep(for: .milliseconds(500))
            await server.kill()
            let result = try await waitForExit(waiter, timeout: .seconds(40))
            // The timeout passes while Redis is away: a timeout, not a possibly-applied change.
            #expect(result.status == 75, "\(result.stderr)")
            let error = try result.jsonError()
            #expect(error["code"] as? String == "timeout")
            #expect(!result.stderr.contains("may or may not have been applied"), "\(result.stderr)")
            await cli.coordinator.redis.close()
        }
    }
}
