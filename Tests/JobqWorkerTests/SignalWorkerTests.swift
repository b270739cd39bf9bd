import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import JobqWorker
import Testing

/// Signals and questions through real workers: a Swift handler waits (holding no slot) and is
/// invoked again when the signal or the answer comes; a shell-script command does the same.
@Suite("Worker: signals and questions", .enabled(if: redisAvailable))
struct SignalWorkerTests {
    struct Approval: Codable, Sendable, Equatable { var by: String }

    @Test func aWaitingHandlerHoldsNoSlotAndResumesWithTheSignal() async throws {
        try await withHarness { harness in
            let runs = Box<[String]>([])
            var registry = HandlerRegistry()
            registry.register("gate") { (_: JSONNull, context: HandlerContext) async throws -> String in
                runs.update { $0.append("gate") }
                let approval = try await context.waitForSignal("approve", as: Approval.self, timeout: .seconds(60))
                return approval.by
            }
            registry.register("other") { (_: JSONNull, _: HandlerContext) async throws -> Int in 1 }
            try harness.startWorker(registry) { $0.concurrency = 1 }
            try await harness.client.submit(task("g", handler: "gate", maxAttempts: 1))
            try await harness.awaitTransition("g", to: .running)
            try await harness.awaitTransition("g", to: .pending)
            // the one slot is free: another task runs meanwhile
            try await harness.client.submit(task("o", handler: "other"))
            #expect(try await harness.finished("o").state == .done)
            #expect(try await harness.coordinator.tasks.task("g")?.state == .pending)
            #expect(try await harness.client.signal(task: "g", name: "approve", payload: Approval(by: "ann")) == .resumed)
            let info = try await harness.finished("g")
            #expect(info.state == .done, "\(info.error ?? "")")
            #expect(info.attempts == 1)
            #expect(runs.current == ["gate", "gate"])
            let outcomes = try await harness.coordinator.tasks.attempts(of: "g").attempts.map(\.outcome)
            #expect(outcomes == [.waiting, .done])
        }
    }

    @Test func aHandlerAsksAndIsAnswered() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("ask") { (_: JSONNull, context: HandlerContext) async throws -> String in
                let first = try await context.ask("Overwrite?", choices: ["yes", "no"])
                let second = try await context.ask("Really?", choices: ["sure", "no"])
                return first + "," + second
            }
            try harness.startWorker(registry)
            try await harness.client.submit(task("q", handler: "ask", maxAttempts: 1))
            try await harness.awaitTransition("q", to: .running)
            try await harness.awaitTransition("q", to: .pending)
            await #expect(throws: JobqError.self) { try await harness.client.answer(task: "q", choice: "maybe") }
            try await waitUntilAsking(harness, "q")
            #expect(try await harness.client.answer(task: "q", choice: "yes") == .resumed)
            try await waitUntilAsking(harness, "q", question: "Really?")
            #expect(try await harness.client.answer(task: "q", choice: "sure") == .resumed)
            let info = try await harness.finished("q")
            #expect(info.state == .done, "\(info.error ?? "")")
            #expect(info.result.map { String(decoding: $0, as: UTF8.self) } == #""yes,sure""#)
        }
    }

    /// A shell script waits with JOBQ_WAIT, reads the signal from JOBQ_SIGNALS_FILE, then asks
    /// with JOBQ_ASK and reads the answer from JOBQ_ANSWER; a bad line fails the attempt.
    @Test func aCommandHandlerWaitsAndAsksWithStderrLines() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("sh", command: shell(#"""
                if [ -z "$JOBQ_SIGNALS_FILE" ]; then echo "JOBQ_WAIT approve 1h" >&2; exit 0; fi
                if [ -z "$JOBQ_ANSWER" ]; then
                  echo "JOBQ_ASK {\"question\": \"Overwrite?\", \"choices\": [\"yes\", \"no\"]}" >&2; exit 1
                fi
                grep -q '"approve":{"by":"ann"}' "$JOBQ_SIGNALS_FILE" || { echo "no signal in the file" >&2; exit 3; }
                echo "\"$JOBQ_ANSWER\""
                """#))
            registry.register("bad", command: shell(#"echo "JOBQ_WAIT not/a/name" >&2; echo 1"#))
            try harness.startWorker(registry) { $0.concurrency = 1 }
            try await harness.client.submit(task("c", handler: "sh", maxAttempts: 1))
            try await harness.client.submit(task("b", handler: "bad", maxAttempts: 1))
            let bad = try await harness.finished("b")
            #expect(bad.state == .failed && bad.reason == "bad_wait")
            try await waitUntilWaiting(harness, "c", for: "approve")
            #expect(try await harness.client.signal(task: "c", name: "approve", payload: Approval(by: "ann")) == .resumed)
            try await waitUntilAsking(harness, "c")
            #expect(try await harness.client.answer(task: "c", choice: "no") == .resumed)
            let info = try await harness.finished("c")
            #expect(info.state == .done, "\(info.error ?? "")")
            #expect(info.result.map { String(decoding: $0, as: UTF8.self) } == #""no""#)
            let outcomes = try await harness.coordinator.tasks.attempts(of: "c").attempts.map(\.outcome)
            #expect(outcomes == [.waiting, .waiting, .done])
        }
    }

    private func waitUntilWaiting(_ harness: Harness, _ id: String, for name: String) async throws {
        for _ in 0..<200 {
            let wait = try await harness.coordinator.redis.send("HGET", .init(harness.coordinator.keys.task(id)), "wait").decodeOptionalString()
            if wait == name { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("task \(id) never waited for \(name)")
    }

    /// Polls the record until the task waits on `question` (the events say PENDING twice).
    private func waitUntilAsking(_ harness: Harness, _ id: String, question: String = "Overwrite?") async throws {
        for _ in 0..<200 {
            let asking = try await harness.coordinator.redis.send("HGET", .init(harness.coordinator.keys.task(id)), "asking").decodeOptionalString()
            if asking?.contains(question) == true { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("task \(id) never asked \(question)")
    }
}
