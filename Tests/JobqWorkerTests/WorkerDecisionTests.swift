import Foundation
@testable import JobqCore
import JobqWorker
import Logging
import Testing

/// The worker's decisions against an in-memory ``TaskLeaseStore``: what it claims, which outcome
/// it records (exactly one per claim), what it does when the store refuses. No Redis: the
/// broker's side of these stories is tested against redis-server in WorkerTests and JobqCoreTests.
@Suite("Worker decisions (in-memory store)")
struct WorkerDecisionTests {
    @Test func shutdownHandsBackARunningTaskWithoutChargingIt() async throws {
        let store = InMemoryLeaseStore()
        let (started, startedContinuation) = AsyncStream.makeStream(of: String.self)
        var registry = HandlerRegistry()
        registry.register("block", raw: { _, context in
            startedContinuation.yield(context.taskID)
            try await Task.sleep(for: .seconds(600))
            return Array("null".utf8)
        })
        let worker = try Self.worker(store, registry) { $0.shutdownGrace = .zero }
        let run = Task { try await worker.run() }
        store.add("t", handler: "block")
        var iterator = started.makeAsyncIterator()
        #expect(await iterator.next() == "t")
        worker.shutdown()
        try await run.value
        let seen = store.snapshot
        #expect(seen.completions.isEmpty)
        #expect(seen.failures.map(\.lease.id) == ["t"])
        #expect(seen.failures.first?.mode == .handBack)
        #expect(seen.failures.first?.reason == "shutdown")
        #expect(seen.leased.isEmpty)
        #expect(seen.registered && seen.unregistered)
        #expect(worker.runningTaskIDs.isEmpty)
    }

    /// A cancellation that arrives after the handler returned, while its completion is being
    /// recorded, must not produce a second outcome: the handler's own outcome stands.
    @Test func cancellationDuringCompletionKeepsTheHandlersOutcome() async throws {
        let store = InMemoryLeaseStore()
        let heartbeatSeen = Box(false)
        store.beforeComplete.withLock { hook in
            hook = { completions in
                guard completions.contains(where: { $0.lease.id == "t" }) else { return }
                store.cancel("t")
                // The control wait sees the id and heartbeats the task at once.
                heartbeatSeen.set(await eventually { store.snapshot.heartbeats.contains { $0.contains { $0.id == "t" } } })
            }
        }
        var registry = HandlerRegistry()
        registry.register("quick", raw: { _, _ in Array("42".utf8) })
        let worker = try Self.worker(store, registry) { $0.heartbeat = .seconds(1) }
        let run = Task { try await worker.run() }
        store.add("t", handler: "quick")
        #expect(await eventually { store.snapshot.completions.count == 1 && worker.runningTaskIDs.isEmpty })
        #expect(heartbeatSeen.current, "the cancellation reached the worker while the completion was in flight")
        worker.shutdown()
        try await run.value
        let seen = store.snapshot
        #expect(seen.completions.map(\.result) == [Array("42".utf8)])
        #expect(seen.failures.isEmpty, "no cancel outcome after the handler's completion: \(seen.failures)")
    }

    /// The store refuses a completion (stale token: the lease expired and the task went to
    /// another run). The worker forgets the task, does not repeat the write, and goes on.
    @Test func staleTokenRefusalIsNotRetriedAndTheWorkerGoesOn() async throws {
        let store = InMemoryLeaseStore()
        store.beforeComplete.withLock { hook in
            hook = { completions in
                if completions.contains(where: { $0.lease.id == "first" }) { store.revokeLease("first") }
            }
        }
        var registry = HandlerRegistry()
        registry.register("quick", raw: { _, _ in Array("null".utf8) })
        let worker = try Self.worker(store, registry)
        let run = Task { try await worker.run() }
        store.add("first", handler: "quick")
        #expect(await eventually { store.snapshot.completions.count == 1 && worker.runningTaskIDs.isEmpty })
        store.add("second", handler: "quick")
        #expect(await eventually { store.snapshot.completions.count == 2 && worker.runningTaskIDs.isEmpty })
        worker.shutdown()
        try await run.value
        let seen = store.snapshot
        #expect(seen.completions.map(\.lease.id) == ["first", "second"], "the refused write is not repeated")
        #expect(seen.leased["first"] == -1, "the refused write changed nothing")
        #expect(seen.leased["second"] == nil)
        #expect(seen.failures.isEmpty)
    }

    /// A heartbeat refused for a running task means the lease is lost: the handler is told to
    /// stop (`leaseLost`) and nothing is recorded for it.
    @Test func lostLeaseStopsTheHandlerAndRecordsNothing() async throws {
        let store = InMemoryLeaseStore()
        let (started, startedContinuation) = AsyncStream.makeStream(of: String.self)
        let stopReason = Box<StopReason?>(nil)
        var registry = HandlerRegistry()
        registry.register("block", raw: { _, context in
            startedContinuation.yield(context.taskID)
            try? await Task.sleep(for: .seconds(600))
            stopReason.set(context.stopReason)
            return Array("null".utf8)
        })
        let worker = try Self.worker(store, registry)
        let run = Task { try await worker.run() }
        store.add("t", handler: "block")
        var iterator = started.makeAsyncIterator()
        #expect(await iterator.next() == "t")
        store.revokeLease("t")
        #expect(await eventually { worker.runningTaskIDs.isEmpty && worker.busySlots == 0 })
        #expect(stopReason.current == .leaseLost)
        worker.shutdown()
        try await run.value
        let seen = store.snapshot
        #expect(seen.completions.isEmpty)
        #expect(seen.failures.isEmpty)
    }

    @Test func unknownHandlerFailsTheTaskForGood() async throws {
        let store = InMemoryLeaseStore()
        var registry = HandlerRegistry()
        registry.register("known", raw: { _, _ in Array("null".utf8) })
        let worker = try Self.worker(store, registry)
        let run = Task { try await worker.run() }
        store.add("t", handler: "nobody")
        #expect(await eventually { store.snapshot.failures.count == 1 })
        worker.shutdown()
        try await run.value
        let failure = try #require(store.snapshot.failures.first)
        #expect(failure.mode == .final)
        #expect(failure.reason == "unknown_handler")
    }

    /// A claim asks for no more tasks than there are free slots.
    @Test func claimsNoMoreThanTheFreeSlots() async throws {
        let store = InMemoryLeaseStore()
        let release = Box(false)
        var registry = HandlerRegistry()
        registry.register("gate", raw: { _, _ in
            while !release.current { try await Task.sleep(for: .milliseconds(5)) }
            return Array("null".utf8)
        })
        for index in 0..<5 { store.add("t\(index)", handler: "gate") }
        let worker = try Self.worker(store, registry) { $0.concurrency = 3 }
        let run = Task { try await worker.run() }
        #expect(await eventually { worker.busySlots == 3 })
        #expect(store.snapshot.claimCounts.first == 3)
        #expect(store.snapshot.leased.count == 3, "two tasks stay ready for other workers")
        release.set(true)
        #expect(await eventually { store.snapshot.completions.count == 5 })
        worker.shutdown()
        try await run.value
        #expect(store.snapshot.claimCounts.allSatisfy { $0 <= 3 })
    }

    /// A quarantined suspect waits while the worker is busy: the worker stops claiming, lets
    /// every running handler finish, claims as an idle worker, runs the suspect with nothing
    /// beside it, and claims nothing more until it has returned.
    @Test func aCrashSuspectRunsAloneAfterTheWorkerDrains() async throws {
        let store = InMemoryLeaseStore()
        // (running now, every handler's start/end with the count of others running then)
        let tracker = Box((running: 0, log: [String]()))
        @Sendable func track(_ id: String, _ edge: String, _ delta: Int) {
            tracker.update { state in
                if delta < 0 { state.running += delta }
                state.log.append("\(edge) \(id) others=\(state.running)")
                if delta > 0 { state.running += delta }
            }
        }
        var registry = HandlerRegistry()
        registry.register("slow", raw: { _, context in
            track(context.taskID, "start", 1)
            try await Task.sleep(for: .milliseconds(300))
            track(context.taskID, "end", -1)
            return Array("null".utf8)
        })
        let worker = try Self.worker(store, registry) { $0.concurrency = 4 }
        let run = Task { try await worker.run() }
        for index in 0..<3 { store.add("a\(index)", handler: "slow") }
        #expect(await eventually { tracker.current.running == 3 })
        store.addSuspect("suspect", handler: "slow")
        for index in 0..<4 { store.add("b\(index)", handler: "slow") }
        #expect(await eventually { store.snapshot.completions.count == 8 })
        worker.shutdown()
        try await run.value
        let log = tracker.current.log
        let start = try #require(log.firstIndex(of: "start suspect others=0"), "the suspect started beside others: \(log)")
        #expect(log[start + 1] == "end suspect others=0", "something ran beside the suspect: \(log)")
        #expect(log.prefix(start).filter { $0.hasPrefix("start b") }.isEmpty, "new work was claimed before the suspect: \(log)")
        let seen = store.snapshot
        let alone = try #require(seen.claimModes.firstIndex(of: .alone))
        #expect(seen.claimModes.prefix(alone).contains(.drain), "\(seen.claimModes)")
        #expect(seen.claimIdle[alone], "the suspect went to a busy claim")
    }

    static func worker(
        _ store: InMemoryLeaseStore, _ registry: HandlerRegistry, _ configure: (inout WorkerConfiguration) -> Void = { _ in }
    ) throws -> Worker {
        var configuration = Harness.testConfiguration()
        configure(&configuration)
        var logger = Logger(label: "test.worker")
        logger.logLevel = ProcessInfo.processInfo.environment["JOBQ_TEST_LOG"] == nil ? .critical : .debug
        return try Worker(store: store, registry: registry, configuration: configuration, logger: logger)
    }
}

/// Polls `condition` (every 5 ms, up to `limit`): for states reached asynchronously. The limit
/// is generous; it bounds a failing test, it is not a timing assertion.
func eventually(limit: Duration = .seconds(20), _ condition: @Sendable () -> Bool) async -> Bool {
    let end = ContinuousClock.now + limit
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}
