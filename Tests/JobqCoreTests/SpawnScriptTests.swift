import JobqRedis
import Testing

@testable import JobqCore

/// Spawned children through the scripts: the spawn's submit is fenced by the parent's lease
/// (checked before anything is written), a re-spawn attaches, a waiting parent is queued again
/// (or failed) when its children end, and a parent's end cancels its children.
@Suite("spawn: fenced child runs, waits and wake-ups", .enabled(if: redisAvailable))
struct SpawnScriptTests {
    static func child(_ key: String, after: [String] = []) -> TaskSpec {
        TaskSpec(id: key, handler: "c", prerequisites: after.map { Prerequisite($0) }, maxAttempts: 1)
    }

    /// Claims the one queued task, which must be `id`.
    static func claim(_ engine: EngineFixture, _ id: String) async throws -> ClaimedTask {
        let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
        try #require(claimed.map(\.id) == [id])
        return claimed[0]
    }

    /// What `HandlerContext.spawn` submits.
    @discardableResult
    static func spawn(_ engine: EngineFixture, _ lease: TaskLease, _ children: [TaskSpec], key: String = "children", output: String? = nil,
                      policy: ChildFailurePolicy = .failParent) async throws -> SubmitResult {
        let id = ChildRunRequest.childRunID(parent: lease.id, key: key)
        var (specs, options) = try ChildRunRequest(definition: "kids", tasks: children, output: output).submission(id: id)
        options.spawnedBy = SpawnFence(parent: lease, policy: policy, width: specs.count)
        return try await engine.coordinator.tasks.submit(specs, run: options)
    }

    @Test func aSpawnIsFencedByTheParentsLeaseAndWritesNothingWhenRefused() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("p", maxAttempts: 2)])
            // not running yet: refused
            let early = TaskLease(id: "p", token: 1)
            await #expect(throws: JobqError.self) { try await Self.spawn(engine, early, [Self.child("a")]) }
            let claimed = try await Self.claim(engine, "p")
            let before = try await engine.keySnapshot()
            let stale = TaskLease(id: "p", token: claimed.lease.token + 1)
            do {
                try await Self.spawn(engine, stale, [Self.child("a")])
                Issue.record("a stale token spawned")
            } catch let error as JobqError {
                #expect(error.code == .staleToken)
            }
            // a graph whose prerequisite is not in it
            do {
                try await Self.spawn(engine, claimed.lease, [Self.child("a", after: ["nope"])])
                Issue.record("an unknown prerequisite spawned")
            } catch let error as JobqError {
                #expect(error.code == .unknownDependency)
            }
            #expect(try await engine.keySnapshot() == before)
            let spawned = try await Self.spawn(engine, claimed.lease, [Self.child("a"), Self.child("b", after: ["a"])])
            #expect(spawned.created && spawned.run == "p.children")
            #expect(try await engine.field("p", "spawned") == "p.children")
            #expect(try await engine.coordinator.tasks.run("p.children")?.parent == "p")
            #expect(try await engine.events(of: "p").contains("RUNNING>RUNNING:spawned_p.children"))
        }
    }

    @Test func aSpawnAfterTheTaskEndedIsRefused() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("p", maxAttempts: 1)])
            let claimed = try await Self.claim(engine, "p")
            _ = try await engine.coordinator.leases.complete([Completion(lease: claimed.lease, result: Array("1".utf8))])
            do {
                try await Self.spawn(engine, claimed.lease, [Self.child("a")])
                Issue.record("an ended task spawned")
            } catch let error as JobqError {
                #expect(error.code == .invalidState)
            }
            #expect(try await engine.coordinator.tasks.run("p.children") == nil)
        }
    }

    @Test func aRetriedParentAttachesInsteadOfDuplicating() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([TaskSpec(id: "p", handler: "noop", maxAttempts: 3, backoff: .fixed(delay: .zero))])
            let first = try await Self.claim(engine, "p")
            try await Self.spawn(engine, first.lease, [Self.child("a"), Self.child("b")])
            _ = try await engine.coordinator.leases.fail([Failure(lease: first.lease, mode: .retry(delay: .zero), reason: "error", message: "boom")])
            // the children were not cancelled by a retry
            #expect(try await engine.coordinator.tasks.run("p.children")?.state == .pending)
            // (the children were queued before the retry: claimed along with it)
            let batch = try await engine.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
            let second = try #require(batch.first { $0.id == "p" })
            let again = try await Self.spawn(engine, second.lease, [Self.child("a"), Self.child("b")])
            #expect(!again.created && again.run == "p.children")
            #expect(try await engine.coordinator.tasks.taskIDs(inWorkflow: "p.children").count == 2)
            // the same key with another width is refused
            do {
                try await Self.spawn(engine, second.lease, [Self.child("a")])
                Issue.record("a re-spawn of another width attached")
            } catch let error as JobqError {
                #expect(error.code == .idempotencyConflict)
            }
            // another key while this run is open: one spawned run at a time
            do {
                try await Self.spawn(engine, second.lease, [Self.child("x")], key: "more")
                Issue.record("a second open spawn was accepted")
            } catch let error as JobqError {
                #expect(error.code == .invalidState)
            }
        }
    }

    /// A spawn wider than one submit call goes in chunks (the first holds only some of its tasks):
    /// a re-spawn still attaches, by the whole spawn's width, and duplicates nothing.
    @Test func aRetriedParentAttachesToASpawnSubmittedInChunks() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([TaskSpec(id: "p", handler: "noop", queue: "parents", maxAttempts: 3, backoff: .fixed(delay: .zero))])
            let first = try #require(try await engine.coordinator.leases.claim(queues: ["parents"], count: 1, lease: .seconds(30), worker: "w").first)
            let width = Limits().tasksPerSubmitCall * 2 + 50
            let children = (0..<width).map { Self.child("c\($0)") }
            #expect(try await Self.spawn(engine, first.lease, children).created)
            _ = try await engine.coordinator.leases.fail([Failure(lease: first.lease, mode: .retry(delay: .zero), reason: "error", message: "boom")])
            let second = try #require(try await engine.coordinator.leases.claim(queues: ["parents"], count: 1, lease: .seconds(30), worker: "w").first)
            let again = try await Self.spawn(engine, second.lease, children)
            #expect(!again.created && again.run == "p.children")
            #expect(try await engine.coordinator.tasks.run("p.children")?.total == width)
            #expect(try await engine.coordinator.tasks.taskIDs(inWorkflow: "p.children").count == width)
        }
    }

    /// A stale copy of the parent's id in its queue (a cancel, then a retry) must not start it
    /// again while it waits for its children: only the run's end queues it.
    @Test func aStaleQueueEntryDoesNotStartAParentWaitingForItsChildren() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([TaskSpec(id: "p", handler: "noop", queue: "parents", maxAttempts: 3)])
            #expect(try await engine.coordinator.tasks.cancel(task: "p") == .cancelled) // its id stays queued
            #expect(try await engine.coordinator.tasks.retry(task: "p") == ["p"]) // and is queued again
            let parent = try #require(try await engine.coordinator.leases.claim(queues: ["parents"], count: 1, lease: .seconds(30), worker: "w").first)
            try await Self.spawn(engine, parent.lease, [Self.child("a")])
            #expect(try await engine.coordinator.leases.fail([Failure(lease: parent.lease, mode: .children, reason: "waiting_children", message: "")]) == [.waiting])
            #expect(try await engine.coordinator.leases.claim(queues: ["parents"], count: 1, lease: .seconds(30), worker: "w").isEmpty) // the stale copy is dropped
            #expect(try await engine.state("p") == .pending)
            let child = try #require(try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w").first)
            _ = try await engine.coordinator.leases.complete([Completion(lease: child.lease, result: Array("1".utf8))])
            #expect(try await engine.coordinator.leases.claim(queues: ["parents"], count: 1, lease: .seconds(30), worker: "w").first?.id == "p")
        }
    }

    /// The parent's worker dies between its spawn and its wait: the lease runs out, the reaper
    /// queues it again, the next attempt spawns the same key and attaches (children kept).
    @Test func aParentReapedAfterSpawningAttachesOnItsNextAttempt() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("p", maxAttempts: 3)])
            let first = try await Self.claim(engine, "p")
            try await Self.spawn(engine, first.lease, [Self.child("a"), Self.child("b")])
            engine.clock.advance(by: .seconds(31))
            _ = try await engine.coordinator.maintenance.reap()
            #expect(try await engine.state("p") == .pending)
            let second = try await Self.claim(engine, "p")
            let again = try await Self.spawn(engine, second.lease, [Self.child("a"), Self.child("b")])
            #expect(!again.created)
            // the dead attempt's lease can spawn no more
            await #expect(throws: JobqError.self) { try await Self.spawn(engine, first.lease, [Self.child("a"), Self.child("b")]) }
            _ = try await engine.coordinator.leases.fail([Failure(lease: second.lease, mode: .children, reason: "waiting_children", message: "")])
            #expect(try await engine.drain() == ["p.children/a", "p.children/b", "p"])
            #expect(try await engine.coordinator.tasks.taskIDs(inWorkflow: "p.children").count == 2)
            #expect(try await engine.state("p") == .done)
        }
    }

    /// A retried parent whose children all ended meanwhile attaches, reads them and returns: its
    /// own result stands (it read them; `childrenRead`), it does not end with the run's output.
    @Test func aRetriedParentThatReadItsEndedChildrenKeepsItsOwnResult() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([TaskSpec(id: "p", handler: "noop", maxAttempts: 3, backoff: .fixed(delay: .seconds(60)))])
            let first = try await Self.claim(engine, "p")
            try await Self.spawn(engine, first.lease, [Self.child("a")])
            _ = try await engine.coordinator.leases.fail([Failure(lease: first.lease, mode: .retry(delay: .seconds(60)), reason: "error", message: "boom")])
            #expect(try await engine.drain() == ["p.children/a"])
            #expect(try await engine.coordinator.tasks.run("p.children")?.state == .done)
            engine.clock.advance(by: .seconds(61))
            _ = try await engine.coordinator.maintenance.promote()
            let second = try await Self.claim(engine, "p")
            let again = try await Self.spawn(engine, second.lease, [Self.child("a")])
            #expect(!again.created)
            var completion = Completion(lease: second.lease, result: Array("\"mine\"".utf8))
            completion.childrenRead = true
            #expect(try await engine.coordinator.leases.complete([completion]) == [.done])
            #expect(try await engine.state("p") == .done)
            #expect(try await engine.coordinator.tasks.task("p")?.result == Array("\"mine\"".utf8))
            #expect(try await engine.field("p", "spawned") == nil)
        }
    }

    @Test func aParentThatReturnsEndsWithItsChildrenChordStyle() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("p", maxAttempts: 1), spec("next", after: ["p"])])
            let parent = try await Self.claim(engine, "p")
            try await Self.spawn(engine, parent.lease, [Self.child("a"), Self.child("b"), Self.child("join", after: ["a", "b"])], output: "join")
            _ = try await engine.coordinator.leases.complete([Completion(lease: parent.lease, result: Array("\"mine\"".utf8))])
            #expect(try await engine.state("p") == .pending)
            #expect(try await engine.field("p", "child") == "p.children")
            let order = try await engine.drain { claimed in Array("\"\(claimed.id)\"".utf8) }
            #expect(order == ["p.children/a", "p.children/b", "p.children/join", "next"])
            #expect(try await engine.state("p") == .done)
            #expect(try await engine.coordinator.tasks.task("p")?.result == Array("\"p.children/join\"".utf8))
        }
    }

    @Test func aWaitingParentIsQueuedAgainWithItsAttemptRefunded() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("p", maxAttempts: 1)])
            let parent = try await Self.claim(engine, "p")
            try await Self.spawn(engine, parent.lease, [Self.child("a")])
            let outcome = try await engine.coordinator.leases.fail([Failure(lease: parent.lease, mode: .children, reason: "waiting_children", message: "")])
            #expect(outcome == [.waiting])
            #expect(try await engine.state("p") == .pending)
            #expect(try await engine.field("p", "attempts") == "0")
            #expect(try await engine.zsetMembers(engine.keys.leases).isEmpty)
            #expect(try await engine.drain() == ["p.children/a", "p"])
            #expect(try await engine.state("p") == .done)
            #expect(try await engine.field("p", "attempts") == "1")
            #expect(try await engine.events(of: "p").contains("PENDING>PENDING:resumed"))
            #expect(try await engine.events(of: "p").contains("RUNNING>PENDING:waiting_children"))
        }
    }

    @Test(arguments: [ChildFailurePolicy.failParent, .wakeParent])
    func aFailedChildFailsOrWakesTheParentPerItsPolicy(_ policy: ChildFailurePolicy) async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("p", maxAttempts: 1)])
            let parent = try await Self.claim(engine, "p")
            try await Self.spawn(engine, parent.lease, [Self.child("a")], policy: policy)
            _ = try await engine.coordinator.leases.fail([Failure(lease: parent.lease, mode: .children, reason: "waiting_children", message: "")])
            let child = try await Self.claim(engine, "p.children/a")
            _ = try await engine.coordinator.leases.fail([Failure(lease: child.lease, mode: .final, reason: "error", message: "boom")])
            try await engine.coordinator.runner.settleAll()
            #expect(try await engine.coordinator.tasks.run("p.children")?.state == .failed)
            switch policy {
            case .failParent:
                #expect(try await engine.state("p") == .failed)
                #expect(try await engine.field("p", "reason") == "child_failed")
            case .wakeParent:
                #expect(try await engine.state("p") == .pending)
                #expect(try await engine.readyList() == ["p"])
                #expect(try await engine.field("p", "child") == nil)
            }
        }
    }

    @Test func cancellingAWaitingParentCancelsItsChildren() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("p", maxAttempts: 1)])
            let parent = try await Self.claim(engine, "p")
            try await Self.spawn(engine, parent.lease, [Self.child("a"), Self.child("b")])
            _ = try await engine.coordinator.leases.fail([Failure(lease: parent.lease, mode: .children, reason: "waiting_children", message: "")])
            let running = try await Self.claim(engine, "p.children/a")
            _ = try await engine.coordinator.tasks.cancel(task: "p")
            try await engine.coordinator.maintenance.continueUnownedWork()
            #expect(try await engine.state("p") == .cancelled)
            #expect(try await engine.state("p.children/b") == .cancelled)
            // the running child is told (its next heartbeat answers cancel_requested)
            #expect(try await engine.field("p.children/a", "cancel_requested") != nil)
            _ = running
        }
    }

    @Test func aParentThatFailsForGoodBeforeWaitingCancelsItsChildren() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("p", maxAttempts: 1)])
            let parent = try await Self.claim(engine, "p")
            try await Self.spawn(engine, parent.lease, [Self.child("a")])
            _ = try await engine.coordinator.leases.fail([Failure(lease: parent.lease, mode: .final, reason: "error", message: "boom")])
            try await engine.coordinator.maintenance.continueUnownedWork()
            #expect(try await engine.state("p") == .failed)
            #expect(try await engine.state("p.children/a") == .cancelled)
            #expect(try await engine.coordinator.tasks.run("p.children")?.state == .cancelled)
        }
    }
}
