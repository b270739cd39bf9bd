import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import JobqWorker
import Testing

/// Handler backpressure through a real worker: a Swift handler throwing
/// `HandlerError.rateLimited` and a command printing `JOBQ_RATE_LIMITED`: the task goes back
/// uncharged with reason `rate_limited`, and its rate key is paused for the delay (the key's
/// other task does not start before the pause ends, measured by the handlers' own clock).
@Suite("Worker: backpressure", .enabled(if: redisAvailable))
struct BackpressureWorkerTests {
    @Test func aRateLimitedHandlerPausesItsKeyAndRunsAgainUncharged() async throws {
        try await withHarness { harness in
            let starts = Box<[(String, ContinuousClock.Instant)]>([])
            var registry = HandlerRegistry()
            registry.register("call") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                starts.update { $0.append((context.taskID, .now)) }
                if context.taskID == "first", starts.current.filter({ $0.0 == "first" }).count == 1 {
                    throw HandlerError.rateLimited(retryAfter: .milliseconds(400), "429")
                }
                return 1
            }
            registry.register("sh", command: shell(#"""
                if [ -z "$JOBQ_CHECKPOINT_FILE" ]; then echo 'JOBQ_CHECKPOINT true' >&2; echo "JOBQ_RATE_LIMITED 50ms" >&2; exit 1; fi
                echo 2
                """#))
            var first = task("first", handler: "call", maxAttempts: 1)
            first.rate = RateLimit(100, per: .seconds(1), key: "api")
            var second = task("second", handler: "call", maxAttempts: 1)
            second.rate = RateLimit(100, per: .seconds(1), key: "api")
            try await harness.client.submit(first)
            try harness.startWorker(registry)
            // once the 429 is recorded (the key paused), the key's second task is submitted
            let deadline = ContinuousClock.now + .seconds(10)
            while try await harness.coordinator.tasks.task("first")?.reason != "rate_limited", ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await harness.client.submit(second)
            _ = try await harness.finished("second", timeout: .seconds(10))
            let firstInfo = try await harness.finished("first", timeout: .seconds(10))
            #expect(firstInfo.state == .done && firstInfo.attempts == 1 && firstInfo.snoozes == 1, "\(firstInfo)")
            let times = starts.current
            let reported = try #require(times.first { $0.0 == "first" }?.1)
            let secondStart = try #require(times.first { $0.0 == "second" }?.1)
            #expect(secondStart - reported >= .milliseconds(350), "the key's other task started \(secondStart - reported) after the 429")
            let events = try await harness.coordinator.inspector.events(after: "0-0", block: nil, count: 1000).records
            #expect(events.contains { $0.task == "first" && $0.from == .running && $0.to == .pending && $0.reason == "rate_limited" })

            // a command says it with a stderr line (no rate key: a snooze)
            try await harness.client.submit(task("cmd", handler: "sh", maxAttempts: 1))
            let command = try await harness.finished("cmd", timeout: .seconds(10))
            #expect(command.state == .done && command.snoozes == 1 && command.attempts == 1, "\(command)")
        }
    }
}
