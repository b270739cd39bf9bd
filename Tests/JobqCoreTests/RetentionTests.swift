import JobqRedis
import Testing

@testable import JobqCore

@Suite("retention", .enabled(if: redisAvailable))
struct RetentionTests {
    /// After a workload drains and its retention passes, the namespace holds only counters.
    @Test func memoryReturnsToBaselineAfterRetention() async throws {
        try await withEngine { engine in
            var specs = (0..<200).map { index in
                var task = spec("t\(index)", after: index > 0 ? ["t\(index - 1)"] : [])
                task.resultTTL = .seconds(1)
                return task
            }
            specs[5].resultTTL = .seconds(1)
            _ = try await engine.coordinator.submit(specs, workflow: "wf")
            try await engine.drain(batch: 50)
            // Real time must pass for Redis's own key expiry.
            try await Task.sleep(for: .milliseconds(1200))
            engine.clock.advance(by: .seconds(2))
            let result = try await engine.coordinator.promote()
            #expect(result.trimmed == 200)
            let left = try await engine.keySnapshot()
            let allowed: Set<String> = [engine.keys.stats, engine.keys.events, engine.keys.token, engine.keys.queues, engine.keys.wake("default")]
            #expect(Set(left.keys).subtracting(allowed).isEmpty, "left behind: \(left.keys.sorted())")
        }
    }
}
