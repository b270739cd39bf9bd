import JobqRedis
import Testing

@testable import JobqCore

/// signal.lua, fail.lua's `wait` mode and promote.lua's signal timeouts, against a real redis-server.
@Suite("signals / questions", .enabled(if: redisAvailable))
struct SignalScriptTests {
    private func claim(_ engine: EngineFixture) async throws -> ClaimedTask? {
        try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w").first
    }

    private func wait(_ task: ClaimedTask, _ name: String = "approve", timeout: Duration? = nil,
                      question: SignalQuestion? = nil, token: Int? = nil) -> Failure {
        Failure(lease: TaskLease(id: task.id, token: token ?? task.lease.token),
                mode: .wait(name: name, timeout: timeout, question: question), reason: "waiting", message: "")
    }

    private func signal(_ engine: EngineFixture, _ id: String = "a", _ name: String = "approve", _ payload: String = #"{"by":"ann"}"#) async throws -> SignalDelivery {
        try await engine.coordinator.tasks.signal(task: id, name: name, payload: Array(payload.utf8))
    }

    @Test func aWaitHoldsNoQueueUntilTheSignalComes() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let first = try #require(try await claim(engine))
            #expect(try await engine.coordinator.leases.fail([wait(first)]) == [.waiting])
            #expect(try await engine.state("a") == .pending)
            #expect(try await engine.field("a", "attempts") == "0")
            #expect(try await engine.field("a", "wait") == "approve")
            #expect(try await engine.events(of: "a").last == "RUNNING>PENDING:waiting")
            _ = try await engine.coordinator.maintenance.promote()
            #expect(try await claim(engine) == nil)
            #expect(try await signal(engine) == .resumed)
            #expect(try await engine.events(of: "a").last == "PENDING>PENDING:signalled")
            let second = try #require(try await claim(engine))
            #expect(second.attempt == 1)
            #expect(second.signals.map { String(decoding: $0, as: UTF8.self) } == #"{"approve":{"by":"ann"}}"#)
            #expect(try await engine.field("a", "wait") == "")
            let outcomes = try await engine.coordinator.tasks.attempts(of: "a").attempts.map(\.outcome)
            #expect(outcomes == [.waiting])
        }
    }

    @Test func aSignalBeforeTheWaitIsKeptAndConsumedWhenItBegins() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let first = try #require(try await claim(engine))
            #expect(try await signal(engine) == .kept)
            #expect(try await signal(engine, "a", "other", "1") == .kept)
            #expect(try await engine.field("a", "signals") == "approve other")
            // the wait finds it kept: queued again at once
            #expect(try await engine.coordinator.leases.fail([wait(first, timeout: .seconds(5))]) == [.waiting])
            #expect(try await engine.events(of: "a").suffix(2) == ["RUNNING>PENDING:waiting", "PENDING>PENDING:signalled"])
            #expect(try await engine.redis.send("ZCARD", RedisArgument(engine.keys.prefix + "signal_timeouts")).decodeInt() == 0)
            let second = try #require(try await claim(engine))
            #expect(second.signals.map { String(decoding: $0, as: UTF8.self) } == #"{"approve":{"by":"ann"},"other":1}"#)
        }
    }

    @Test func aSignalToAPendingTaskNotWaitingForItIsKept() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("p"), spec("a", after: ["p"])])
            #expect(try await signal(engine) == .kept)
            #expect(try await engine.field("a", "sig:approve") == #"{"by":"ann"}"#)
            #expect(try await engine.state("a") == .pending)
        }
    }

    @Test func aWaitTimesOutFailedAndItsDependentsSettle() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b", after: ["a"])])
            let first = try #require(try await claim(engine))
            #expect(try await engine.coordinator.leases.fail([wait(first, timeout: .seconds(10))]) == [.waiting])
            #expect(try await engine.field("a", "wait_until") == String(engine.clock.now + 10_000))
            let early = try await engine.coordinator.maintenance.promote()
            #expect(early.signalTimeouts == 0)
            #expect(early.nextDue == engine.clock.now + 10_000)
            engine.clock.advance(by: .seconds(10))
            let due = try await engine.coordinator.maintenance.promote()
            #expect(due.signalTimeouts == 1)
            #expect(try await engine.state("a") == .failed)
            #expect(try await engine.field("a", "reason") == "signal_timeout")
            #expect(try await engine.events(of: "a").last == "PENDING>FAILED:signal_timeout")
            #expect(try await engine.state("b") == .cancelled)
            // a signal to an ended task is refused, nothing written
            let before = try await engine.keySnapshot()
            await #expect(throws: JobqError.self) { _ = try await signal(engine) }
            #expect(try await engine.keySnapshot() == before)
        }
    }

    @Test func aSignalResumingTheTaskDropsItsTimeout() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let first = try #require(try await claim(engine))
            _ = try await engine.coordinator.leases.fail([wait(first, timeout: .seconds(10))])
            #expect(try await signal(engine) == .resumed)
            engine.clock.advance(by: .seconds(11))
            #expect(try await engine.coordinator.maintenance.promote().signalTimeouts == 0)
            #expect(try await engine.state("a") == .pending)
        }
    }

    /// Found by the model-based test: a task cancelled while it waited, then retried, kept its
    /// wait — a signal "resumed" it into its queue a second time, and its old timeout could fail
    /// it while queued.
    @Test func aRetriedTaskThatWasCancelledWhileWaitingWaitsNoMore() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let first = try #require(try await claim(engine))
            #expect(try await engine.coordinator.leases.fail([wait(first, timeout: .seconds(5))]) == [.waiting])
            #expect(try await engine.coordinator.tasks.cancel(task: "a") == .cancelled)
            #expect(try await engine.coordinator.tasks.retry(task: "a") == ["a"])
            #expect(try await engine.field("a", "wait") == nil)
            #expect(try await engine.redis.send("ZCARD", RedisArgument(engine.keys.prefix + "signal_timeouts")).decodeInt() == 0)
            #expect(try await signal(engine) == .kept) // not a resumption: it is queued already
            engine.clock.advance(by: .seconds(10))
            _ = try await engine.coordinator.maintenance.promote()
            #expect(try await engine.state("a") == .pending)
            let second = try #require(try await claim(engine))
            #expect(second.id == "a")
            #expect(try await claim(engine) == nil) // queued once
        }
    }

    /// A stale copy of a task's id left in its queue (a cancel, then a retry) must not start the
    /// task while its handler waits for a signal: only the signal queues it again.
    @Test func aStaleQueueEntryDoesNotStartAWaitingTask() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            #expect(try await engine.coordinator.tasks.cancel(task: "a") == .cancelled) // its id stays queued
            #expect(try await engine.coordinator.tasks.retry(task: "a") == ["a"]) // and is queued again
            let first = try #require(try await claim(engine))
            #expect(try await engine.coordinator.leases.fail([wait(first)]) == [.waiting])
            #expect(try await claim(engine) == nil) // the stale copy is dropped
            #expect(try await engine.field("a", "wait") == "approve")
            #expect(try await signal(engine) == .resumed)
            #expect(try await claim(engine)?.id == "a")
        }
    }

    @Test func aQuestionIsAnsweredWithOneOfItsChoices() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let question = try SignalQuestion("Overwrite?", choices: ["yes", "no"])
            let first = try #require(try await claim(engine))
            #expect(try await engine.coordinator.leases.fail([wait(first, question.signalName, question: question)]) == [.waiting])
            #expect(try await engine.field("a", "asking") == #"{"question":"Overwrite?","choices":["yes","no"]}"#)
            let before = try await engine.keySnapshot()
            await #expect(throws: JobqError(.invalidAnswer, "not one of the choices task a offers (see jobq status a)", subject: "a")) {
                _ = try await engine.coordinator.tasks.answer(task: "a", choice: "maybe")
            }
            #expect(try await engine.keySnapshot() == before)
            #expect(try await engine.coordinator.tasks.answer(task: "a", choice: "yes") == .resumed)
            #expect(try await engine.events(of: "a").last == "PENDING>PENDING:answered")
            #expect(try await engine.field("a", "asking") == "")
            let second = try #require(try await claim(engine))
            #expect(second.signals.map { String(decoding: $0, as: UTF8.self) } == "{\"\(question.signalName)\":\"yes\"}")
        }
    }

    @Test func badInputWritesNothing() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let before = try await engine.keySnapshot()
            func code(_ body: () async throws -> Void) async -> JobqError.Code? {
                do { try await body(); return nil } catch let error as JobqError { return error.code } catch { return nil }
            }
            #expect(await code { _ = try await signal(engine, "nope") } == .notFound)
            #expect(await code { _ = try await signal(engine, "a", "bad name") } == .invalidName)
            #expect(await code { _ = try await signal(engine, "a", "approve", "{not json") } == .invalidPayload)
            let big = "\"" + String(repeating: "x", count: Limits.signalMaxBytes) + "\""
            #expect(await code { _ = try await signal(engine, "a", "approve", big) } == .payloadTooLarge)
            #expect(await code { _ = try await engine.coordinator.tasks.answer(task: "a", choice: "yes") } == .notAsking)
            #expect(try await engine.keySnapshot() == before)
            // a wait with a stale token changes nothing either
            let task = try #require(try await claim(engine))
            let claimed = try await engine.keySnapshot()
            #expect(try await engine.coordinator.leases.fail([wait(task, token: task.lease.token + 1)]) == [.refused(.staleToken)])
            #expect(try await engine.keySnapshot() == claimed)
        }
    }
}
