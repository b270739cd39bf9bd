import JobqRedis
import Testing

@testable import JobqCore

/// fail.lua's `snooze` mode and progress.lua's checkpoint, against a real redis-server.
@Suite("snooze / checkpoint", .enabled(if: redisAvailable))
struct SnoozeCheckpointScriptTests {
    private func claim(_ engine: EngineFixture) async throws -> ClaimedTask {
        try #require(try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w").first)
    }

    private func snooze(_ task: ClaimedTask, _ delay: Duration = .seconds(30), token: Int? = nil) -> Failure {
        Failure(lease: TaskLease(id: task.id, token: token ?? task.lease.token), mode: .snooze(delay: delay, retryDelay: .seconds(10)),
                reason: "snoozed", message: "not yet")
    }

    @Test func snoozeRefundsTheAttemptAndDelaysOnRedisTime() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let first = try await claim(engine)
            #expect(first.attempt == 1)
            #expect(try await engine.coordinator.leases.fail([snooze(first)]) == [.snoozed])
            #expect(try await engine.state("a") == .pending)
            #expect(try await engine.field("a", "attempts") == "0")
            #expect(try await engine.field("a", "snoozes") == "1")
            #expect(try await engine.field("a", "reason") == "snoozed")
            let due = try await engine.redis.send("ZSCORE", RedisArgument(engine.keys.delayed), "a").decodeString()
            #expect(due == String(engine.clock.now + 30_000))
            #expect(try await engine.events(of: "a").last == "RUNNING>PENDING:snoozed")
            // not before its time
            _ = try await engine.coordinator.maintenance.promote()
            #expect(try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w").isEmpty)
            engine.clock.advance(by: .seconds(30))
            _ = try await engine.coordinator.maintenance.promote()
            let second = try await claim(engine)
            #expect(second.attempt == 1)
            let history = try await engine.coordinator.tasks.attempts(of: "a")
            #expect(history.attempts.map(\.outcome) == [.snoozed])
            #expect(history.attempts.first?.isChargedOutcome == false)
        }
    }

    @Test func theLimitTurnsTheSnoozeIntoAFailure() async throws {
        try await withEngine { engine in
            var task = spec("a", maxAttempts: 2)
            task.maxSnoozes = 1
            _ = try await engine.coordinator.tasks.submit([task])
            #expect(try await engine.field("a", "max_snoozes") == "1")
            #expect(try await engine.coordinator.leases.fail([snooze(try await claim(engine), .milliseconds(1))]) == [.snoozed])
            engine.clock.advance(by: .milliseconds(1))
            _ = try await engine.coordinator.maintenance.promote()
            // the second snooze is over the limit: a failed attempt, retried after the backoff
            #expect(try await engine.coordinator.leases.fail([snooze(try await claim(engine))]) == [.retrying])
            #expect(try await engine.field("a", "reason") == "snooze_limit")
            #expect(try await engine.field("a", "attempts") == "1")
            #expect(try await engine.field("a", "snoozes") == "1")
            let due = try await engine.redis.send("ZSCORE", RedisArgument(engine.keys.delayed), "a").decodeString()
            #expect(due == String(engine.clock.now + 10_000))
            engine.clock.advance(by: .seconds(10))
            _ = try await engine.coordinator.maintenance.promote()
            let last = try await claim(engine)
            #expect(last.attempt == 2)
            #expect(try await engine.coordinator.leases.fail([snooze(last)]) == [.failed])
            #expect(try await engine.state("a") == .failed)
            #expect(try await engine.field("a", "reason") == "snooze_limit")
            let outcomes = try await engine.coordinator.tasks.attempts(of: "a").attempts.map(\.outcome)
            #expect(outcomes == [.snoozed, .retried, .failed])
        }
    }

    @Test func aStaleTokensSnoozeOrCheckpointChangesNothing() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let task = try await claim(engine)
            let before = try await engine.keySnapshot()
            #expect(try await engine.coordinator.leases.fail([snooze(task, token: task.lease.token + 1)]) == [.refused(.staleToken)])
            let stale = TaskLease(id: "a", token: task.lease.token + 1)
            #expect(try await engine.coordinator.leases.saveCheckpoint(stale, Array(#"{"at":1}"#.utf8)) == .refused(.staleToken))
            #expect(try await engine.keySnapshot() == before)
        }
    }

    @Test func aSnoozeOutOfRangeIsClampedNotAFailedBatch() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let task = try await claim(engine)
            #expect(try await engine.coordinator.leases.fail([snooze(task, .zero)]) == [.snoozed])
            let due = try await engine.redis.send("ZSCORE", RedisArgument(engine.keys.delayed), "a").decodeString()
            #expect(due == String(engine.clock.now + 1))
        }
    }

    @Test func aCheckpointSurvivesToTheNextAttemptsClaim() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b")])
            let first = try await claim(engine)
            #expect(first.checkpoint == nil)
            engine.clock.advance(by: .seconds(3))
            #expect(try await engine.coordinator.leases.saveCheckpoint(first.lease, Array(#"{"done":90}"#.utf8)) == .extended)
            #expect(try await engine.field("a", "checkpoint") == #"{"done":90}"#)
            #expect(try await engine.field("a", "checkpoint_at") == String(engine.clock.now))
            let failure = Failure(lease: first.lease, mode: .retry(delay: .zero), reason: "error", message: "boom")
            #expect(try await engine.coordinator.leases.fail([failure]) == [.retrying])
            let next = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(30), worker: "w")
            #expect(next.map(\.id) == ["b", "a"])
            #expect(next[0].checkpoint == nil)
            #expect(next[1].checkpoint.map { String(decoding: $0, as: UTF8.self) } == #"{"done":90}"#)
            // a finished task needs no resume point
            _ = try await engine.coordinator.leases.complete([Completion(lease: next[1].lease, result: Array("1".utf8))])
            #expect(try await engine.field("a", "checkpoint") == nil)
            #expect(try await engine.field("a", "checkpoint_at") == nil)
        }
    }

    @Test func anOversizeOrNonJSONCheckpointIsRefused() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let task = try await claim(engine)
            let big = Array(("\"" + String(repeating: "x", count: Limits.checkpointMaxBytes) + "\"").utf8)
            await #expect(throws: JobqError.self) { try await engine.coordinator.leases.saveCheckpoint(task.lease, big) }
            await #expect(throws: JobqError.self) { try await engine.coordinator.leases.saveCheckpoint(task.lease, Array("{nope".utf8)) }
            // the script enforces the size itself, whatever the caller checked
            let call = ProgressCall(lease: task.lease, logCap: 10, entries: [], lines: [], checkpoint: big)
            await #expect(throws: JobqError.self) { try await engine.coordinator.runner.run(call) }
            #expect(try await engine.field("a", "checkpoint") == nil)
        }
    }

    @Test func retryKeepsTheCheckpointAndResetsTheSnoozes() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: 1)])
            var task = try await claim(engine)
            _ = try await engine.coordinator.leases.fail([snooze(task, .milliseconds(1))])
            engine.clock.advance(by: .milliseconds(1))
            _ = try await engine.coordinator.maintenance.promote()
            task = try await claim(engine)
            try await engine.coordinator.leases.saveCheckpoint(task.lease, Array("[1,2]".utf8))
            _ = try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .final, reason: "error", message: "x")])
            _ = try await engine.coordinator.tasks.retry(task: "a")
            #expect(try await engine.field("a", "snoozes") == nil)
            let again = try await claim(engine)
            #expect(again.checkpoint == Array("[1,2]".utf8))
        }
    }
}

private extension TaskAttempt {
    var isChargedOutcome: Bool { outcome.isCharged }
}
