import JobqRedis
import Testing

@testable import JobqCore

@Suite("claim / heartbeat / complete / fail / reap", .enabled(if: redisAvailable))
struct LeaseScriptTests {
    @Test func claimTakesALeaseWithAFreshToken() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", payload: #"{"n":1}"#), spec("b")])
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w1")
            #expect(claimed.map(\.id) == ["a"])
            let task = try #require(claimed.first)
            #expect(task.payload == Array(#"{"n":1}"#.utf8))
            #expect(task.attempt == 1 && task.maxAttempts == 3)
            #expect(task.handler == "noop" && task.queue == "default")
            #expect(task.leaseDeadline == engine.clock.now + 30_000)
            #expect(task.backoff == .fixed(delay: .seconds(10)))
            #expect(try await engine.state("a") == .running)
            #expect(try await engine.field("a", "worker") == "w1")
            #expect(try await engine.field("a", "token") == String(task.lease.token))
            #expect(try await engine.zsetMembers(engine.keys.leases) == ["a"])
            #expect(try await engine.coordinator.tasks.taskIDs(in: .running) == ["a"])
            #expect(try await engine.coordinator.tasks.taskIDs(in: .pending) == ["b"])
            let next = try await engine.coordinator.leases.claim(queues: ["default"], count: 5, lease: .seconds(30), worker: "w2")
            #expect(next.map(\.id) == ["b"])
            #expect(next[0].lease.token > task.lease.token)
            #expect(try await engine.coordinator.leases.claim(queues: ["default"], count: 5, lease: .seconds(30), worker: "w2").isEmpty)
        }
    }

    @Test func claimSkipsPausedQueuesAndStaleIDs() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", queue: "q1"), spec("b", queue: "q2"), spec("c", queue: "q2")])
            try await engine.coordinator.maintenance.pause(queue: "q1")
            _ = try await engine.coordinator.tasks.cancel(task: "b")
            // An id with no record at all, pushed by hand.
            _ = try await engine.redis.send("RPUSH", RedisArgument(engine.keys.ready("q2")), "ghost")
            let claimed = try await engine.coordinator.leases.claim(queues: ["q1", "q2"], count: 10, lease: .seconds(5), worker: "w")
            #expect(claimed.map(\.id) == ["c"])
            #expect(try await engine.readyList("q1") == ["a"])
            #expect(try await engine.readyList("q2").isEmpty)
            try await engine.coordinator.maintenance.resume(queue: "q1")
            #expect(try await engine.coordinator.leases.claim(queues: ["q1"], count: 10, lease: .seconds(5), worker: "w").map(\.id) == ["a"])
        }
    }

    @Test func claimReturnsPrerequisiteResults() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b"), spec("c", after: ["a", "b"])])
            try await engine.drain(batch: 2) { task in Array("\"result of \(task.id)\"".utf8) }
            #expect(try await engine.field("c", "result") == "\"result of c\"")
            // Re-run a fresh dependent to inspect what its claim carries.
            _ = try await engine.coordinator.tasks.submit([spec("d", after: ["a", "c"])])
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(5), worker: "w")
            let prerequisites = try #require(claimed.first).prerequisites.sorted { $0.id < $1.id }
            #expect(prerequisites.map(\.id) == ["a", "c"])
            #expect(prerequisites.map(\.state) == [.done, .done])
            #expect(prerequisites.map { String(decoding: $0.result, as: UTF8.self) } == ["\"result of a\"", "\"result of c\""])
        }
    }

    @Test func heartbeatExtendsOnlyTheCurrentLease() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            let task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(10), worker: "w")[0]
            engine.clock.advance(by: .seconds(5))
            let outcomes = try await engine.coordinator.leases.heartbeat(
                [task.lease, TaskLease(id: "a", token: task.lease.token + 1), TaskLease(id: "nope", token: 1)],
                lease: .seconds(10), worker: "w")
            #expect(outcomes == [.extended, .refused(.staleToken), .refused(.notFound)])
            #expect(try await engine.field("a", "lease") == String(engine.clock.now + 10_000))
        }
    }

    @Test func completeIsFencedAndHappensOnce() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b", after: ["a"])])
            let task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(10), worker: "w")[0]
            let stale = Completion(lease: TaskLease(id: "a", token: task.lease.token - 1), result: Array("1".utf8))
            #expect(try await engine.coordinator.leases.complete([stale]) == [.refused(.staleToken)])
            #expect(try await engine.state("a") == .running)
            #expect(try await engine.readyList().isEmpty)
            let good = Completion(lease: task.lease, result: Array("42".utf8))
            #expect(try await engine.coordinator.leases.complete([good]) == [.done])
            #expect(try await engine.coordinator.leases.complete([good]) == [.refused(.invalidState)])
            #expect(try await engine.state("a") == .done)
            #expect(try await engine.field("a", "result") == "42")
            #expect(try await engine.field("a", "finished") == String(engine.clock.now))
            #expect(try await engine.field("b", "deps_left") == "0")
            #expect(try await engine.readyList() == ["b"])
            #expect(try await engine.zsetMembers(engine.keys.leases).isEmpty)
            #expect(try await engine.events(of: "a") == ["->PENDING:", "PENDING>RUNNING:", "RUNNING>DONE:"])
            let expiry = try await engine.redis.send("ZSCORE", RedisArgument(engine.keys.ended(.done)), "a").decodeString()
            #expect(Int64(expiry) == engine.clock.now + TaskSpec.defaultResultTTL.components.seconds * 1000)
        }
    }

    @Test func failRetriesAfterBackoffThenFails() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: 2), spec("b", after: ["a"])])
            var task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(10), worker: "w")[0]
            let first = try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .retry(delay: .seconds(10)), reason: "error", message: "boom 1")])
            #expect(first == [.retrying])
            #expect(try await engine.state("a") == .pending)
            #expect(try await engine.field("a", "error") == "boom 1")
            #expect(try await engine.zsetMembers(engine.keys.delayed) == ["a"])
            #expect(try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(10), worker: "w").isEmpty)
            engine.clock.advance(by: .seconds(11))
            #expect(try await engine.coordinator.maintenance.promote().promoted == 1)
            task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(10), worker: "w")[0]
            #expect(task.attempt == 2)
            let second = try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .retry(delay: .seconds(10)), reason: "error", message: "boom 2")])
            #expect(second == [.failed])
            #expect(try await engine.state("a") == .failed)
            #expect(try await engine.state("b") == .cancelled)
            #expect(try await engine.field("b", "reason") == "dependency_failed")
            #expect(try await engine.coordinator.tasks.task("b")?.attempts == 0)
        }
    }

    @Test func handBackDoesNotChargeAnAttempt() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: 1)])
            let task = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(10), worker: "w")[0]
            #expect(try await engine.coordinator.leases.fail([Failure(lease: task.lease, mode: .handBack, reason: "shutdown", message: "")]) == [.handedBack])
            #expect(try await engine.field("a", "attempts") == "0")
            #expect(try await engine.list(engine.keys.recovered("default")) == ["a"], "handed back: claimed again first")
            let again = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(10), worker: "w")
            #expect(again.first?.attempt == 1)
        }
    }

    @Test func expiredLeaseIsReapedAndTheOldTokenRejected() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", maxAttempts: 2)])
            let first = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(3), worker: "w1")[0]
            engine.clock.advance(by: .seconds(2))
            #expect(try await engine.coordinator.maintenance.reap().isEmpty)
            engine.clock.advance(by: .seconds(2))
            let reaped = try await engine.coordinator.maintenance.reap()
            #expect(reaped.map(\.id) == ["a"] && reaped.map(\.state) == [.pending])
            #expect(try await engine.field("a", "reason") == "lease_expired")
            let second = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(3), worker: "w2")[0]
            // It did not run alone, so the death is not charged; the re-run knows it is one.
            #expect(second.attempt == 1)
            #expect(second.workerDeaths == 1)
            // The first worker wakes up late: its writes change nothing.
            #expect(try await engine.coordinator.leases.complete([Completion(lease: first.lease, result: [])]) == [.refused(.staleToken)])
            #expect(try await engine.coordinator.leases.heartbeat([first.lease], lease: .seconds(3), worker: "w1") == [.refused(.staleToken)])
            #expect(try await engine.state("a") == .running)
            // A second death beside nothing proven: quarantine. Only an idle claim gets it, alone;
            // deaths while it runs alone are charged, and the last one ends it as poison.
            engine.clock.advance(by: .seconds(4))
            #expect(try await engine.coordinator.maintenance.reap().map(\.state) == [.pending])
            #expect(try await engine.list(engine.keys.quarantine("default")) == ["a"])
            for attempt in 1...2 {
                let alone = try await engine.coordinator.leases.claimBatch(queues: ["default"], count: 5, lease: .seconds(3), worker: "w3", idle: true)
                #expect(alone.mode == .alone && alone.tasks.map(\.attempt) == [attempt])
                engine.clock.advance(by: .seconds(4))
                _ = try await engine.coordinator.maintenance.reap()
            }
            #expect(try await engine.state("a") == .failed)
            #expect(try await engine.field("a", "reason") == "poison")
            #expect(try await engine.field("a", "deaths") == "4")
            #expect(try await engine.field("a", "attempts") == "2")
        }
    }
}

@Suite("claim: stale duplicates", .enabled(if: redisAvailable))
struct ClaimStaleDuplicateTests {
    /// Cancel while queued leaves the id in the ready list; retry queues it again. If the run
    /// then fails with a retry delay, the leftover duplicate must not start it before the delay.
    @Test func aLeftoverDuplicateDoesNotBypassTheRetryDelay() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a")])
            _ = try await engine.coordinator.tasks.cancel(task: "a")
            _ = try await engine.coordinator.tasks.retry(task: "a")
            #expect(try await engine.readyList() == ["a", "a"])
            let first = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(10), worker: "w")
            #expect(first.map(\.id) == ["a"])
            _ = try await engine.coordinator.leases.fail([Failure(lease: first[0].lease, mode: .retry(delay: .seconds(30)), reason: "error", message: "x")])
            #expect(try await engine.coordinator.leases.claim(queues: ["default"], count: 5, lease: .seconds(10), worker: "w").isEmpty)
            engine.clock.advance(by: .seconds(31))
            #expect(try await engine.coordinator.maintenance.promote().promoted == 1)
            let second = try await engine.coordinator.leases.claim(queues: ["default"], count: 5, lease: .seconds(10), worker: "w")
            #expect(second.map(\.id) == ["a"] && second[0].attempt == 2)
        }
    }

    /// Both copies of such an id in one claim batch: the task is claimed once, not twice under
    /// two tokens (which would run it twice at once).
    @Test func oneClaimNeverTakesATaskTwice() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b")])
            _ = try await engine.coordinator.tasks.cancel(task: "a")
            _ = try await engine.coordinator.tasks.retry(task: "a")
            #expect(try await engine.readyList() == ["a", "b", "a"])
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 5, lease: .seconds(10), worker: "w")
            #expect(claimed.map(\.id) == ["a", "b"], "the second copy of a is dropped")
            #expect(try await engine.field("a", "attempts") == "1")
        }
    }
}
