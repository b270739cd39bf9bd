import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import JobqWorker
import Testing

/// Snoozes and checkpoints through real workers: Swift handlers and a shell-script command.
@Suite("Worker: snooze and checkpoints", .enabled(if: redisAvailable))
struct SnoozeCheckpointWorkerTests {
    @Test func aHandlerSnoozesTwiceThenCompletesOnItsFirstAttempt() async throws {
        try await withHarness { harness in
            let runs = Box<[Int]>([])
            var registry = HandlerRegistry()
            registry.register("poll") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                runs.update { $0.append(context.attempt) }
                if runs.current.count <= 2 { throw HandlerError.snooze(for: .milliseconds(20), "not there yet") }
                return runs.current.count
            }
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "poll", maxAttempts: 1))
            let info = try await harness.finished("t")
            #expect(info.state == .done, "\(info.error ?? "")")
            #expect(info.attempts == 1)
            #expect(info.snoozes == 2)
            #expect(runs.current == [1, 1, 1])
            let history = try await harness.coordinator.tasks.attempts(of: "t")
            #expect(history.attempts.map(\.outcome) == [.snoozed, .snoozed, .done])
            #expect(history.attempts.first?.error == "not there yet")
        }
    }

    @Test func aSnoozeOutOfRangeFailsTheAttempt() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("bad") { (_: JSONNull, _: HandlerContext) async throws -> Int in
                throw HandlerError.snooze(for: .zero)
            }
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "bad", maxAttempts: 1))
            let info = try await harness.finished("t")
            #expect(info.state == .failed && info.reason == "bad_snooze")
            #expect(info.error?.contains("between 1ms and 366d") == true, "\(info.error ?? "")")
        }
    }

    /// A long job saves where it is; its next attempt (after a failure) resumes there.
    @Test func theNextAttemptResumesFromTheCheckpoint() async throws {
        struct Crash: Error {}
        try await withHarness { harness in
            let starts = Box<[Int?]>([])
            var registry = HandlerRegistry()
            registry.register("long") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                let resumeAt = try context.checkpoint(as: Int.self)
                starts.update { $0.append(resumeAt) }
                for step in (resumeAt ?? 0)..<10 {
                    try await context.checkpoint(step)
                    if step == 9, context.attempt == 1 { throw Crash() } // dies at 90 %
                }
                return 10
            }
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "long", maxAttempts: 2))
            let info = try await harness.finished("t")
            #expect(info.state == .done, "\(info.error ?? "")")
            #expect(info.attempts == 2)
            #expect(starts.current == [nil, 9])
            #expect(info.checkpointBytes == nil) // a finished task needs no resume point
        }
    }

    @Test func anOversizeCheckpointThrowsInTheHandler() async throws {
        try await withHarness { harness in
            let thrown = Box<String>("")
            var registry = HandlerRegistry()
            registry.register("big") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                do {
                    try await context.checkpoint(String(repeating: "x", count: Limits.checkpointMaxBytes))
                } catch let error as JobqError {
                    thrown.set(error.code.rawValue)
                }
                return 1
            }
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "big"))
            #expect(try await harness.finished("t").state == .done)
            #expect(thrown.current == JobqError.Code.payloadTooLarge.rawValue)
        }
    }

    /// The command reads its last checkpoint from JOBQ_CHECKPOINT_FILE, saves one with a
    /// JOBQ_CHECKPOINT line and snoozes with a JOBQ_SNOOZE line (whatever its exit status).
    @Test func aCommandHandlerSnoozesAndCheckpointsWithStderrLines() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("sh", command: shell(#"""
                n=0
                if [ -n "$JOBQ_CHECKPOINT_FILE" ]; then n=$(sed 's/[^0-9]//g' "$JOBQ_CHECKPOINT_FILE"); fi
                echo "run with checkpoint $n" >&2
                n=$((n + 1))
                echo "JOBQ_CHECKPOINT {\"n\":$n}" >&2
                if [ "$n" -lt 3 ]; then echo "JOBQ_SNOOZE 20ms" >&2; exit 1; fi
                echo "$n"
                """#))
            registry.register("badline", command: shell(#"echo "JOBQ_SNOOZE soon" >&2; echo 1"#))
            registry.register("badcheckpoint", command: shell(#"echo "JOBQ_CHECKPOINT {nope" >&2; echo 1"#))
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "sh", maxAttempts: 1))
            try await harness.client.submit(task("b", handler: "badline", maxAttempts: 1))
            try await harness.client.submit(task("c", handler: "badcheckpoint", maxAttempts: 1))
            let info = try await harness.finished("t")
            #expect(info.state == .done, "\(info.error ?? "")")
            #expect(info.attempts == 1 && info.snoozes == 2)
            #expect(String(decoding: info.result ?? [], as: UTF8.self) == "3")
            #expect(try await harness.coordinator.tasks.logs(of: "t") == ["run with checkpoint 0", "run with checkpoint 1", "run with checkpoint 2"])
            let bad = try await harness.finished("b")
            #expect(bad.state == .failed && bad.reason == "bad_snooze")
            #expect(try await harness.coordinator.tasks.logs(of: "b") == ["JOBQ_SNOOZE soon"])
            let refused = try await harness.finished("c")
            #expect(refused.state == .done)
            let logs = try await harness.coordinator.tasks.logs(of: "c")
            #expect(logs.count == 1 && logs[0].hasPrefix("[jobq: checkpoint refused: checkpoint is not valid JSON"), "\(logs)")
        }
    }
}
