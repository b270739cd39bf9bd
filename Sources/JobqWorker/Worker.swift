import Foundation
import Jobq
import JobqCore
import Logging
import ServiceLifecycle
import Synchronization

/// Runs handlers for claimed tasks: the worker runtime behind `jobq-worker`, usable as a library.
///
/// ```swift
/// var registry = HandlerRegistry()
/// registry.register("resize") { (input: ResizeInput, context: HandlerContext) async throws -> ResizeOutput in … }
/// let worker = try Worker(client: client, registry: registry,
///                         configuration: WorkerConfiguration(queues: ["default"], concurrency: 8), logger: logger)
/// try await worker.run()   // or add it to a ServiceGroup: it is a `Service`
/// ```
///
/// One worker has `concurrency` slots. It claims as many tasks as it has free slots in one
/// `claim` call, runs each handler in its own Swift `Task`, extends all its leases in one
/// `heartbeat` call per interval, and records outcomes in batches (completions and failures
/// that finish close together share one `complete`/`fail` call). An idle worker blocks on a
/// wake-up key in Redis (no polling). Every worker also runs the maintenance pass (reap expired
/// leases, promote due retries), guarded by a lock so the fleet does it once per interval.
///
/// Shutdown (``shutdown()``, graceful shutdown of its `ServiceGroup`, or cancellation of `run()`)
/// stops claiming, lets running handlers finish within ``WorkerConfiguration/shutdownGrace``,
/// hands the rest back without charging an attempt, and unregisters the worker.
public final class Worker: Service, Sendable {
    public let configuration: WorkerConfiguration
    /// The broker: claims, leases, outcomes, wake-ups (``TaskLeaseStore``).
    let store: any TaskLeaseStore
    let registry: HandlerRegistry
    let logger: Logger
    let metrics = WorkerMetrics()

    /// Everything the worker decides about itself, behind one lock; see ``WorkerLifecycle``.
    let state: Mutex<State>
    /// Slots were freed (the claim loop may be waiting for one).
    let capacityChanged = AsyncSignal()
    /// Something the shutdown sequence waits for changed.
    let drainChanged = AsyncSignal()
    /// A stop was requested (opened once, by the first request).
    let stopRequested = Latch()
    /// The claim loop has returned: no claim is in flight any more.
    let claimLoopEnded = Latch()
    /// Outcomes wait to be recorded.
    let outcomesQueued = AsyncSignal()
    let outcomes = Mutex(PendingOutcomes())
    /// An outcome call left a cascade on the settle list (``cascadeLoop()``).
    let cascadesQueued = AsyncSignal()
    /// A delayed task is due earlier than the maintenance loop planned to wake.
    let scheduleChanged = AsyncSignal()
    /// Task progress and log lines wait to be sent.
    let reportsQueued = AsyncSignal()
    let reports = Mutex(PendingReports())
    /// Claimed tasks of batch handlers waiting for their batch to fill.
    let batches = Mutex(BatchBuffer<RunningTask>())
    let deadlines: DeadlineWatcher

    struct State {
        var lifecycle: WorkerLifecycle<RunningTask>
        /// When the maintenance loop wakes next: the next pass, or the next known due time.
        var schedule: MaintenanceSchedule
        /// Redis clock minus local clock, in ms.
        var clockOffset: Int64 = 0
    }

    /// - Throws: `invalid_option` / `invalid_name` for a configuration that cannot work or a
    ///   handler name outside the grammar.
    package init(
        store: some TaskLeaseStore, registry: HandlerRegistry, configuration: WorkerConfiguration,
        logger: Logger = Logger(label: "jobq.worker")
    ) throws(JobqError) {
        try configuration.validate()
        try registry.validate()
        self.store = store
        self.registry = registry
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "worker"] = .string(configuration.workerID)
        self.logger = logger
        self.deadlines = DeadlineWatcher()
        self.state = Mutex(State(
            lifecycle: WorkerLifecycle(concurrency: configuration.concurrency),
            schedule: MaintenanceSchedule(interval: configuration.maintenanceInterval, now: .now)
        ))
    }

    /// A worker using `client`'s Redis connection and namespace.
    public convenience init(
        client: JobqClient, registry: HandlerRegistry, configuration: WorkerConfiguration,
        logger: Logger = Logger(label: "jobq.worker")
    ) throws(JobqError) {
        try self.init(store: client.engine, registry: registry, configuration: configuration, logger: logger)
    }

    /// The id this worker claims and registers under.
    public var id: String { configuration.workerID }

    /// Ids of the tasks this worker holds now (running, or with their outcome being recorded).
    public var runningTaskIDs: [String] {
        state.withLock { $0.lifecycle.held.keys.map(\.id) }.sorted()
    }

    /// Handlers executing now.
    public var busySlots: Int { state.withLock { $0.lifecycle.busy } }

    // MARK: Running and stopping

    /// Runs until shut down (or, in drain mode, until there is nothing left to do).
    ///
    /// Graceful shutdown of the surrounding `ServiceGroup` calls ``shutdown()``; cancelling the
    /// calling task calls ``stopNow()``. Either way `run()` returns only after the tasks it held
    /// were finished or handed back. A worker runs once.
    ///
    /// - Throws: `invalid_state` when called twice.
    public func run() async throws {
        let action = state.withLock { $0.lifecycle.start() }
        guard action == .run else { throw JobqError(.invalidState, "worker \(id) has already run; create a new Worker to run again") }
        // The engine's task group runs in a task of its own, which `run()` always awaits: Swift
        // cannot shield a child task from its parent's cancellation, and cancelling `run()` must
        // not cancel the hand-back it asks for (heartbeats, outcome writes, stop deadlines go on
        // until every lease is settled). Cancellation is translated into ``stopNow()`` instead.
        let engine = Task { await self.runEngine() }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await engine.value
            } onGracefulShutdown: { [self] in
                shutdown()
            }
        } onCancel: { [self] in
            stopNow()
        }
    }

    /// Stops claiming; running tasks may finish within the grace period, the rest are handed
    /// back. Returns at once; `run()` returns when it is done. Idempotent.
    public func shutdown() {
        requestStop(.graceful)
    }

    /// Stops claiming and hands back every running task at once (their handlers are cancelled).
    public func stopNow() {
        requestStop(.immediate)
    }

    func requestStop(_ request: WorkerLifecycle<RunningTask>.StopRequest) {
        let action = state.withLock { $0.lifecycle.requestStop(request) }
        guard action == .wakeWaiters else { return }
        stopRequested.open()
        drainChanged.notify()
        capacityChanged.notify()
    }

    // MARK: The engine

    /// The worker's loops, children of one task group: claim, heartbeat, control (cancel-list
    /// wait), maintenance, outcome writer, report writer, deadline watcher. The group's body is
    /// the shutdown sequence; when it is done it cancels the loops that wait forever.
    private func runEngine() async {
        logger.info("worker started", metadata: [
            "queues": .string(configuration.queues.joined(separator: ",")),
            "concurrency": .stringConvertible(configuration.concurrency),
            "namespace": .string(store.storeNamespace),
            "handlers": .string(registry.names.joined(separator: ",")),
            "lease": .string(DurationText.format(configuration.lease)),
            "heartbeat": .string(DurationText.format(configuration.heartbeat)),
        ])
        for name in registry.names {
            guard let batch = registry.batchHandler(named: name)?.settings, batch.max > configuration.concurrency else { continue }
            logger.notice("a batch holds at most as many tasks as the worker has slots: raise the concurrency to fill batches of batch.max", metadata: [
                "handler": .string(name), "batch_max": .stringConvertible(batch.max), "concurrency": .stringConvertible(configuration.concurrency),
            ])
        }
        metrics.slots.record(configuration.concurrency)
        metrics.slotsBusy.record(0)
        await refreshClockOffset()
        await registerSelf()

        await withDiscardingTaskGroup { group in
            group.addTask { await self.heartbeatLoop() }
            group.addTask { await self.controlLoop() }
            group.addTask { await self.maintenanceLoop() }
            group.addTask { await self.outcomeLoop() }
            group.addTask { await self.cascadeLoop() }
            group.addTask { await self.reportLoop() }
            group.addTask { await self.deadlines.run(self) }
            group.addTask {
                // The claim loop stops at the stop request, even while it blocks on a wake-up.
                await withDiscardingTaskGroup { claiming in
                    claiming.addTask { await self.claimLoop() }
                    await self.stopRequested.wait()
                    claiming.cancelAll()
                }
                self.claimLoopEnded.open()
            }
            await self.shutDownWhenAsked()
            group.cancelAll()
        }
        do {
            try await store.unregister(worker: id)
        } catch {
            logger.warning("could not unregister the worker (its registration expires by itself)", metadata: ["error": .string(error.description)])
        }
        state.withLock { $0.lifecycle.finished() }
        logger.info("worker stopped")
    }

    /// Waits for a stop request, then: no more claims; running tasks finish within the grace
    /// period; the rest are told to stop and handed back; their outcomes are recorded.
    private func shutDownWhenAsked() async {
        await stopRequested.wait()
        let request = state.withLock { $0.lifecycle.beginDraining() }
        logger.info("worker stopping: no more claims", metadata: ["reason": .string("\(request)")])
        await claimLoopEnded.wait()
        startWaitingBatches()

        // Let running tasks finish within the grace period (or until an immediate stop).
        let running = state.withLock { $0.lifecycle.busy }
        if running > 0 && request != .immediate {
            logger.info("waiting for running tasks to finish", metadata: [
                "running": .stringConvertible(running),
                "grace": .string(DurationText.format(configuration.shutdownGrace)),
            ])
        }
        let graceEnd = ContinuousClock.now + configuration.shutdownGrace
        _ = await waitForDrain(until: graceEnd, stopEarlyOnImmediate: true)

        // Hand back whatever still runs.
        let now = ContinuousClock.now
        let remaining = state.withLock { Array($0.lifecycle.held.values) }
        var handedBack = 0
        for run in remaining where run.requestStop(.shutdown, stopTimeout: configuration.stopTimeout, now: now) {
            deadlines.nudge()
            handedBack += 1
        }
        if handedBack > 0 {
            logger.notice("handing back tasks still running", metadata: ["tasks": .stringConvertible(handedBack)])
        }
        let finishEnd = ContinuousClock.now + configuration.stopTimeout + .seconds(5)
        let recorded = await waitForDrain(until: finishEnd, stopEarlyOnImmediate: false)
        if !recorded {
            let left = state.withLock { $0.lifecycle.held.keys.map(\.id) }.sorted()
            logger.error("could not record the outcome of some tasks before stopping; they run again once their lease expires", metadata: [
                "tasks": .string(left.joined(separator: ",")),
            ])
        }
        let stuck = state.withLock { $0.lifecycle.busy }
        if stuck > 0 {
            logger.warning("some handlers ignored cancellation and are still running; abandoning them", metadata: ["handlers": .stringConvertible(stuck)])
        }

        state.withLock { $0.lifecycle.beginFinishing() }
        outcomesQueued.notify()
        reportsQueued.notify()
        deadlines.stop()
    }

    /// Waits until nothing is held or `deadline` passes; true if nothing is held.
    private func waitForDrain(until deadline: ContinuousClock.Instant, stopEarlyOnImmediate: Bool) async -> Bool {
        while true {
            let step = state.withLock {
                $0.lifecycle.drainStep(deadlinePassed: ContinuousClock.now >= deadline, stopEarlyOnImmediate: stopEarlyOnImmediate)
            }
            switch step {
            case .drained: return true
            case .giveUp: return false
            case .wait: break
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.drainChanged.wait() }
                group.addTask { try? await Task.sleep(until: deadline) }
                await group.next()
                group.cancelAll()
            }
        }
    }

    // MARK: Time

    /// The local wall clock, in ms since the epoch.
    static func localMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }

    /// Asks Redis for its time, so due times (Redis clock) can be turned into waits.
    func refreshClockOffset() async {
        do {
            let before = Self.localMilliseconds()
            let redisNow = try await store.serverTime()
            let after = Self.localMilliseconds()
            let offset = redisNow - (before + after) / 2
            state.withLock { $0.clockOffset = offset }
            if abs(offset) > 1000 {
                logger.notice("this machine's clock differs from Redis's; jobq uses Redis's clock for deadlines", metadata: ["offset_ms": .stringConvertible(offset)])
            }
        } catch {
            logger.debug("could not read the Redis clock", metadata: ["error": .string("\(error)")])
        }
    }

    /// The local instant of `dueMilliseconds` (Redis clock); now if it has passed.
    func localInstant(redisMilliseconds dueMilliseconds: Int64) -> ContinuousClock.Instant {
        ContinuousClock.now + timeUntil(redisMilliseconds: dueMilliseconds)
    }

    /// How long until `dueMilliseconds` (Redis clock); zero if it has passed.
    func timeUntil(redisMilliseconds dueMilliseconds: Int64) -> Duration {
        let offset = state.withLock { $0.clockOffset }
        let left = dueMilliseconds - (Self.localMilliseconds() + offset)
        return left > 0 ? .milliseconds(left) : .zero
    }

    // MARK: Registration

    func registerSelf() async {
        let runs = state.withLock { Array($0.lifecycle.held.values) }
        // when each passes its timeout, on Redis's clock: readers flag the overdue ones from
        // this instead of reading every running task's record (WorkerInfo.deadlines)
        var deadlines: [String: Int64] = [:]
        for run in runs {
            deadlines[run.claimed.id] = WorkerInfo.timeoutDeadline(leaseDeadline: run.claimed.leaseDeadline, lease: configuration.lease, timeout: run.claimed.timeout)
        }
        let info = WorkerRegistration(
            id: id, host: ProcessInfo.processInfo.hostName, pid: Int(ProcessInfo.processInfo.processIdentifier),
            queues: configuration.queues, concurrency: configuration.concurrency, running: runs.map(\.claimed.id).sorted(),
            heartbeatMilliseconds: configuration.heartbeat.components.seconds * 1000 + configuration.heartbeat.components.attoseconds / 1_000_000_000_000_000,
            deadlines: deadlines
        )
        do {
            try await store.register(info, ttl: max(configuration.lease, configuration.heartbeat * 3))
        } catch {
            metrics.redisError("register")
            logger.debug("could not refresh the worker registration", metadata: ["error": .string(error.description)])
        }
    }
}

extension Worker {
    /// Whether the worker has stopped (or is stopping) claiming.
    public var isStopping: Bool { state.withLock { $0.lifecycle.isStopping } }

    /// Sends SIGKILL to the process group of every command handler still running, e.g. just
    /// before a forced exit, so no child outlives the worker.
    public func killRunningCommands() {
        CommandProcess.killAll(signal: SIGKILL)
    }
}
