import JobqRedis
import Testing

@testable import JobqCore

@Suite("retention", .enabled(if: redisAvailable))
struct RetentionTests {
    /// After a workload drains and its retention passes, the namespace holds only counters.
    @Test func memoryReturnsToBaselineAfterRetention() async throws {
        try await withEngine { engine in
            let specs = (0..<200).map { index in
                var task = spec("t\(index)", after: index > 0 ? ["t\(index - 1)"] : [])
                task.resultTTL = .seconds(1)
                return task
            }
            _ = try await engine.coordinator.tasks.submit(specs, workflow: "wf")
            _ = try await engine.coordinator.tasks.submit([spec("w1"), spec("w2", after: ["w1"])], workflow: "wf2")
            _ = try await engine.coordinator.tasks.cancel(workflow: "wf2")
            try await engine.drain(batch: 50)
            #expect(try await engine.coordinator.maintenance.promote().deleted == 0)
            engine.clock.advance(by: .seconds(2))
            #expect(try await engine.coordinator.maintenance.promote().deleted == 200)
            #expect(try await engine.coordinator.tasks.task("t0") == nil)
            #expect(try await engine.coordinator.tasks.summary(workflow: "wf") == nil)
            // Default retention (24 h) for the cancelled workflow.
            engine.clock.advance(by: .seconds(24 * 3600))
            #expect(try await engine.coordinator.maintenance.promote().deleted == 2)
            let left = try await engine.keySnapshot()
            let allowed: Set<String> = [engine.keys.stats, engine.keys.events, engine.keys.token, engine.keys.queues, engine.keys.wake("default")]
            // the dashboard's per-minute counters (throughput:<hour>) expire on their own, 74 h on
            let counters = String(engine.keys.throughput(hour: 0).dropLast())
            #expect(Set(left.keys.filter { !$0.hasPrefix(counters) }).subtracting(allowed).isEmpty, "left behind: \(left.keys.sorted())")
        }
    }
}
