import Jobq
import JobqCore
import JobqRedis
import JobqTestSupport
import Testing

/// Uniqueness through the public library: `TaskSpec.uniqueness`, `SubmitResult.outcome`,
/// `Workflow.add(unique:)` (refused at `add` when bad; a run refused whole while its key is held).
@Suite("producer API: unique keys", .enabled(if: RedisServerFixture.shouldRun))
struct UniquenessAPITests {
    @Test func aSecondSubmitGetsTheExistingTaskAndARunIsRefusedWhole() async throws {
        let server = try await RedisServerFixture.shared()
        let redis = server.makeClient()
        let client = JobqClient(engine: try Coordinator(redis: redis, namespace: "api-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)))
        var spec = TaskSpec(handler: "sync", payload: Array(#"{"account":7}"#.utf8))
        spec.uniqueness = Uniqueness(key: "sync-{payload.account}", mode: .untilFinished)
        let first = try await client.submit([spec])
        let second = try await client.submit([spec])
        #expect(first.outcome == .created && second.outcome == .deduplicated && !second.created)
        #expect(second.tasks.map(\.id) == first.tasks.map(\.id))
        #expect(try await client.status(first.tasks[0].id).uniqueKey == "sync-7")

        var flow = Workflow("nightly")
        try flow.add("sync", handler: "sync", payload: ["account": 7], unique: Uniqueness(key: "sync-{payload.account}", mode: .untilFinished))
        let held = await #expect(throws: JobqError.self) { _ = try await client.submit(flow) }
        #expect(held?.code == .uniqueHeld && held?.subject == first.tasks[0].id)
        let bad = #expect(throws: JobqError.self) {
            try flow.add("other", handler: "sync", payload: ["account": 8], unique: Uniqueness(key: "k", mode: .throttle(.zero)))
        }
        #expect(bad?.code == .invalidOption)
        await redis.close()
    }
}
