import Foundation
import JobqCore
import JobqRedis
import Testing

/// `jobq submit` under `TRACEPARENT` (a command handler's environment, a traced script) stores
/// that context with the task, so the worker's span for it continues the caller's trace.
@Suite("jobq submit under TRACEPARENT", .enabled(if: redisAvailable))
struct TraceEnvironmentTests {
    static let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    func storedTrace(_ cli: CLIHarness, _ id: String) async throws -> String? {
        try await cli.coordinator.redis.send("HGET", RedisArgument(cli.coordinator.keys.task(id)), "trace").decodeOptionalString()
    }

    @Test func theTaskStoresTheEnvironmentsContext() async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "jobq.noop", "--id", "traced"], environment: ["TRACEPARENT": Self.parent, "TRACESTATE": "vendor=1"])
        #expect(result.status == 0, "\(result.stderr)")
        let stored = try #require(try await storedTrace(cli, "traced"))
        #expect(TraceCarrier.decode(Array(stored.utf8)) == ["traceparent": Self.parent, "tracestate": "vendor=1"])

        let workflow = try CLIHarness.temporaryFile("traced.yaml", "workflow: traced\ntasks:\n  - id: a\n    handler: jobq.noop\n")
        let run = try await cli.run(["submit", "-f", workflow, "--run", "tr1"], environment: ["TRACEPARENT": Self.parent])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(TraceCarrier.decode(Array((try await storedTrace(cli, "tr1/a") ?? "").utf8)) == ["traceparent": Self.parent])
    }

    @Test func withoutTheVariableNothingIsStored() async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "jobq.noop", "--id", "plain"], environment: ["TRACEPARENT": "", "TRACESTATE": ""])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try await storedTrace(cli, "plain") == nil)
    }
}
