import JobqRedis
import Testing

@testable import JobqCore

/// The attempt history (`t:<id>:attempts`) as the scripts write it: one entry per ended attempt,
/// by the script that ended it, capped to the first and the last ``TaskAttempt/keptAfterFirst``.
@Suite("attempt history", .enabled(if: redisAvailable))
struct AttemptHistoryTests {
    @Test func failsTwiceThenSucceeds() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: 3)])
            let start = engine.clock.now
            for (index, worker) in ["w1", "w2"].enumerated() {
                let task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: worker)[0]
                engine.clock.advance(by: .milliseconds(250))
                #expect(try await engine.coordinator.leases.fail([
                    Failure(lease: task.lease, mode: .retry(delay: .zero), reason: index == 0 ? "error" : "timeout", message: "boom \(index + 1)"),
                ]) == [.retrying])
            }
            let task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w3")[0]
            engine.clock.advance(by: .seconds(1))
            #expect(try await engine.coordinator.leases.complete([Completion(lease: task.lease, result: Array("1".utf8))]) == [.done])

            let history = try await engine.coordinator.tasks.attempts(of: "a")
            #expect(history.malformed == 0)
            #expect(history.attempts.map(\.attempt) == [1, 2, 3])
            #expect(history.attempts.map(\.worker) == ["w1", "w2", "w3"])
            #expect(history.attempts.map(\.outcome) == [.retried, .retried, .done])
            #expect(history.attempts.map(\.reason) == ["error", "timeout", ""])
            #expect(history.attempts.map(\.error) == ["boom 1", "boom 2", ""])
            #expect(history.attempts.map(\.started) == [start, start + 250, start + 500])
            #expect(history.attempts.map(\.duration) == [.milliseconds(250), .milliseconds(250), .seconds(1)])
            #expect(history.unsuccessful == 2)
        }
    }

    @Test func finalFailureAndHandBackAreRecordedAndLongErrorsCutAtACharacter() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: 1)])
            var task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w1")[0]
            _ = try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .handBack, reason: "shutdown", message: "")])
            task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w2")[0]
            let long = "a" + String(repeating: "é", count: 400)  // 801 bytes: byte 300 starts an "é"
            #expect(try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .retry(delay: .zero), reason: "error", message: long)]) == [.failed])
            let history = try await engine.coordinator.tasks.attempts(of: "a")
            #expect(history.attempts.map(\.outcome) == [.handedBack, .failed])
            #expect(history.attempts.map(\.attempt) == [1, 1], "a handed-back attempt is refunded: the next claim has its number")
            #expect(history.attempts.map(\.outcome.isCharged) == [false, true])
            #expect(history.attempts[1].error == "a" + String(repeating: "é", count: 149), "cut before the split character")
        }
    }

    /// Refunded deaths beside other tasks, then charged deaths alone, the last one poison.
    @Test func reapedAttemptsRecordTheDeath() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: 2)])
            for worker in ["w1", "w2"] {
                _ = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(3), worker: worker)
                engine.clock.advance(by: .seconds(4))
                _ = try await engine.coordinator.maintenance.reap()
            }
            for _ in 1...2 {
                let batch = try await engine.coordinator.leases.claimBatch(queues: ["default"], count: 1, lease: .seconds(3), worker: "w3", idle: true)
                #expect(batch.mode == .alone)
                engine.clock.advance(by: .seconds(4))
                _ = try await engine.coordinator.maintenance.reap()
            }
            #expect(try await engine.state("a") == .failed)
            let history = try await engine.coordinator.tasks.attempts(of: "a")
            #expect(history.attempts.map(\.outcome) == [.diedRefunded, .diedRefunded, .diedCharged, .diedFinal])
            #expect(history.attempts.map(\.worker) == ["w1", "w2", "w3", "w3"])
            #expect(history.attempts.map(\.attempt) == [1, 1, 1, 2])
            #expect(history.attempts.map(\.reason) == ["lease_expired", "lease_expired", "died_alone", "poison"])
            #expect(history.attempts.allSatisfy { $0.outcome.workerDied && $0.duration == .seconds(4) })
            #expect(history.attempts[0].error.contains("worker w1 died") && history.attempts[0].error.contains("not charged"))
        }
    }

    @Test func cancelledWhileRunning() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b")])
            let tasks = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(3), worker: "w1")
            _ = try await engine.coordinator.tasks.cancel(task: "a", message: "stop it")
            _ = try await engine.coordinator.tasks.cancel(task: "b")
            engine.clock.advance(by: .milliseconds(100))
            // a: the worker stops the handler and reports; b: the worker dies before it does.
            #expect(try await engine.coordinator.leases.fail([Failure(lease: tasks[0].lease, mode: .cancelled, reason: "cancelled", message: "handler stopped")]) == [.cancelled])
            engine.clock.advance(by: .seconds(4))
            #expect(try await engine.coordinator.maintenance.reap().map(\.state) == [.cancelled])
            let histories = try await engine.coordinator.tasks.attempts(of: ["a", "b"])
            #expect(histories.map { $0.attempts.map(\.outcome) } == [[.cancelled], [.cancelled]])
            #expect(histories[0].attempts[0].error == "handler stopped")
            #expect(histories[1].attempts[0].error.contains("worker w1 died"))
            // A task cancelled while pending never ran: no attempt.
            _ = try await engine.coordinator.tasks.submit([spec("c")])
            _ = try await engine.coordinator.tasks.cancel(task: "c")
            #expect(try await engine.coordinator.tasks.attempts(of: "c").attempts.isEmpty)
        }
    }

    /// N + 5 attempts: the first stays, then the last N; the list never grows past N + 1.
    @Test func theCapKeepsTheFirstAndTheLastN() async throws {
        try await withEngine { engine in
            let cap = TaskAttempt.keptAfterFirst
            let total = cap + 5
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: total + 1)])
            for index in 1...total {
                let task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w\(index)")[0]
                #expect(task.attempt == index)
                engine.clock.advance(by: .milliseconds(10))
                _ = try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .retry(delay: .zero), reason: "error", message: "e\(index)")])
                let length = try await engine.redis.send("LLEN", RedisArgument(engine.keys.attempts("a"))).int
                #expect(length == min(index, cap + 1))
            }
            let history = try await engine.coordinator.tasks.attempts(of: "a")
            #expect(history.attempts.map(\.attempt) == [1] + Array((total - cap + 1)...total))
            #expect(history.attempts.first?.error == "e1")
            #expect(history.attempts.last?.error == "e\(total)")
        }
    }

    /// `jobq retry` keeps the history: the re-opened task numbers its attempts from 1 again.
    @Test func retryKeepsTheHistory() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: 1)])
            var task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w1")[0]
            _ = try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .final, reason: "error", message: "first")])
            _ = try await engine.coordinator.tasks.retry(task: "a")
            task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w2")[0]
            _ = try await engine.coordinator.leases.complete([Completion(lease: task.lease, result: [])])
            let history = try await engine.coordinator.tasks.attempts(of: "a")
            #expect(history.attempts.map(\.outcome) == [.failed, .done])
            #expect(history.attempts.map(\.attempt) == [1, 1])
        }
    }

    /// Purge (retention brought forward) deletes the history with the record.
    @Test func purgeDeletesTheHistory() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: 2)])
            var task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w1")[0]
            _ = try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .retry(delay: .zero), reason: "error", message: "x")])
            task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w1")[0]
            _ = try await engine.coordinator.leases.complete([Completion(lease: task.lease, result: [])])
            #expect(try await engine.keySnapshot()[engine.keys.attempts("a")] == "list")
            #expect(try await engine.coordinator.maintenance.purge(finished: ["a"]) == 1)
            #expect(try await engine.keySnapshot()[engine.keys.attempts("a")] == nil)
            #expect(try await engine.coordinator.tasks.attempts(of: "a") == AttemptHistory())
        }
    }
}

/// Decoding of stored entries (pure).
@Suite("attempt entries")
struct TaskAttemptDecodingTests {
    @Test func decodesAnEntryWhoseErrorHoldsTabs() throws {
        let attempt = try #require(TaskAttempt(entry: Array("2\tw1\t1000\t1500\tretried\terror\tbad\tthing\nline 2".utf8)))
        #expect(attempt == TaskAttempt(attempt: 2, worker: "w1", started: 1000, ended: 1500, outcome: .retried, reason: "error", error: "bad\tthing\nline 2"))
        #expect(attempt.duration == .milliseconds(500))
    }

    @Test func malformedEntriesAreSkippedAndCounted() {
        let entries = [
            "1\tw\t1\t2\tdone\t\t",           // good
            "1\tw\t1\t2\texploded\t\t",       // unknown outcome
            "x\tw\t1\t2\tdone\t\t",           // attempt not a number
            "1\tw\t1\t2\tdone",               // too few fields
            "",
        ].map { Array($0.utf8) }
        let history = AttemptHistory(entries: entries)
        #expect(history.attempts.count == 1)
        #expect(history.malformed == 4)
    }

    @Test func outcomesSayWhatTheyCost() {
        #expect(AttemptOutcome.allCases.filter { !$0.isCharged } == [.handedBack, .diedRefunded, .snoozed, .waiting])
        #expect(AttemptOutcome.allCases.filter(\.workerDied) == [.diedRefunded, .diedCharged, .diedFinal])
        #expect(AttemptOutcome.allCases.filter(\.endedTask) == [.done, .failed, .diedFinal, .cancelled])
    }
}
