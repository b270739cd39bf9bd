import Foundation
import Jobq
import JobqCore
import JobqWorker
import Testing

/// Short retry backoffs start at their due time, not at the next maintenance pass: the worker
/// wakes for the next due time it knows (its own retries, the next due time a promote reports).
///
/// The maintenance interval is long here (30 s), so a task promoted only by the pass would start
/// tens of seconds late; the bounds below are half the interval, which a loaded CI machine
/// cannot eat into — they tell "at its due time" from "at the next pass", they time nothing.
/// `JOBQ_TEST_MAINTENANCE_INTERVAL_MS` overrides the interval to measure lateness (printed).
@Suite("Worker: delayed tasks start on time", .enabled(if: redisAvailable))
struct DelayedTaskTimingTests {
    static let interval: Duration = .milliseconds(
        Int(ProcessInfo.processInfo.environment["JOBQ_TEST_MAINTENANCE_INTERVAL_MS"] ?? "") ?? 30_000)

    @Test func aShortRetryBackoffStartsAtItsDueTime() async throws {
        try await withHarness { harness in
            let delay = Duration.milliseconds(100)
            let rounds = 8
            // Per task: when attempt 1 gave up (local clock), when attempt 2 started.
            let times = Box<[String: (failed: ContinuousClock.Instant?, retried: ContinuousClock.Instant?)]>([:])
            var registry = HandlerRegistry()
            registry.register("flaky", raw: { _, context in
                if context.attempt == 1 {
                    times.update { $0[context.taskID, default: (nil, nil)].failed = .now }
                    throw HandlerError.retry("first attempt fails", after: delay)
                }
                times.update { $0[context.taskID, default: (nil, nil)].retried = .now }
                return Array("null".utf8)
            })
            try harness.startWorker(registry) { $0.maintenanceInterval = Self.interval }
            var latenesses: [Duration] = []
            for round in 0..<rounds {
                let id = "r\(round)"
                _ = try await harness.coordinator.tasks.submit([task(id, handler: "flaky")])
                #expect(try await harness.finished(id).state == .done)
                let (failed, retried) = try #require(times.current[id])
                let gap = try #require(retried) - (try #require(failed))
                // The retry is due `delay` after the fail script ran, which is after `failed`.
                #expect(gap >= delay - .milliseconds(2), "attempt 2 started before its due time: gap \(gap)")
                #expect(gap < delay + Self.interval / 2, "attempt 2 waited for the maintenance pass: gap \(gap)")
                latenesses.append(gap - delay)
            }
            Self.print("retry backoff 100ms", interval: Self.interval, latenesses)
        }
    }

    /// A delayed task the maintenance pass has seen (its due time came back from `promote`)
    /// starts at its time, not at the pass after.
    @Test func aDelayedSubmitStartsAtItsDueTimeOnceAPassHasSeenIt() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("noop", raw: { _, _ in Array("null".utf8) })
            // The pass at ~8 s sees them; without the wake for the due time they would start only at
            // the pass at ~16 s, 4-6 s late. The bound (3 s) tells the two apart with room to spare.
            let interval = Duration.seconds(8)
            let delays: [Duration] = [.seconds(10), .seconds(11), .seconds(12)]
            try harness.startWorker(registry) { $0.maintenanceInterval = interval }
            _ = try await harness.coordinator.tasks.submit(delays.enumerated().map { index, delay in
                var spec = task("d\(index)", handler: "noop")
                spec.delay = delay
                return spec
            })
            var latenesses: [Duration] = []
            for (index, delay) in delays.enumerated() {
                let info = try await harness.finished("d\(index)", timeout: .seconds(40))
                #expect(info.state == .done)
                let created = try #require(info.created)
                let started = try #require(info.started)
                let lateness = Duration.milliseconds(started - created) - delay
                // Redis's own clock on both sides: never before the due time.
                #expect(lateness >= .zero, "started \(lateness) before its due time")
                #expect(lateness < .seconds(3), "waited for a later pass: \(lateness) late")
                latenesses.append(lateness)
            }
            Self.print("submit delay 1.5-2.5s", interval: interval, latenesses)
        }
    }

    static func print(_ what: String, interval: Duration, _ latenesses: [Duration]) {
        let sorted = latenesses.sorted()
        let ms = { (d: Duration) in String(format: "%.1f", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000) }
        Swift.print("LATENESS \(what) interval=\(interval): median \(ms(sorted[sorted.count / 2])) ms, max \(ms(sorted.last!)) ms over \(sorted.count)")
    }
}
