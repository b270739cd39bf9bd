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

    let state = Mutex(State())
    /// Slots were freed (the claim loop may be waiting for one).
    let capacityChanged = AsyncSignal()
    /// Something the shutdown sequence waits for changed.
    let drainChanged = AsyncSignal()
    /// A stop was requested.
    let stopRequested = AsyncSignal()
    /// Outcomes wait to be recorded.
    let outcomesQueued = AsyncSignal()
    let outcomes = Mutex(PendingOutcomes())
    /// Task progress and log lines wait to be sent.
    let reportsQueued = AsyncSignal()
    let reports = Mutex(PendingReports())
    let deadlines: DeadlineWatcher

    struct State {
        var phase: Phase = .created
        /// Every lease this worker holds: from claim until its outcome is recorded (or lost).
        var held: [TaskLease: RunningTask] = [:]
        /// Handlers executing (slots in use).
        var busy = 0
        var stop: StopRequest?
        /// When the next delayed task falls due (Redis ms), as of the last promote.
        var nextDue: Int64?
        /// Redis clock minus local clock, in ms.
        var clockOffset: Int64 = 0
    }

    enum Phase: Comparable {
        case created, running, draining, finishing, stopped
    }

    enum StopRequest: Comparable {
        /// Drain mode found nothing left to do.
        case drained
        /// Stop claiming, let running tasks finish within the grace period, hand back the rest.
        case graceful
        /// Hand back everything now.
        case immediate
    }

    /// - Throws: `invalid_option` / `invalid_name` for a configuration that cannot work or a
    ///   handler name outside the grammar.
    public init(
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
    }

    /// A worker claiming through `coordinator` (Redis).
    ///
    /// - Throws: as ``init(store:registry:configuration:logger:)``.
    public convenience init(
        coordinator: Coordinator, registry: HandlerRegistry, configuration: WorkerConfiguration,
        logger: Logger = Logger(label: "jobq.worker")
    ) throws(JobqError) {
        try self.init(store: coordinator, registry: registry, configuration: configuration, logger: logger)
    }

    /// A worker using `client`'s Redis connection and namespace.
    public convenience init(
        client: JobqClient, registry: HandlerRegistry, configuration: WorkerConfiguration,
        logger: Logger = Logger(label: "jobq.worker")
    ) throws(JobqError) {
        try self.init(coordinator: client.coordinator, registry: registry, configuration: configuration, logger: logger)
    }

    /// The id this worker claims and registers under.
    public var id: String { configuration.workerID }

    /// Ids of the tasks this worker holds now (running, or with their outcome being recorded).
    public var runningTaskIDs: [String] {
        state.withLock { $0.held.keys.map(\.id) }.sorted()
    }

    /// Handlers executing now.
    public var busySlots: Int { state.withLock { $0.busy } }

    // MARK: Running and stopping

    /// Runs until shut down (or, in drain mode, until there is nothing left to do).
    ///
    /// Graceful shutdown of the surrounding `ServiceGroup` calls ``shutdown()``; cancelling the
    /// calling task calls ``stopNow()``. Either way `run()` returns only after the tasks it held
    /// were finished or handed back. A worker runs once.
    ///
    /// - Throws: `invalid_state` when called twice.
    public func run() async throws {
        let first = state.withLock { state -> Bool in
            guard state.phase == .created else { return false }
            state.phase = .running
            return true
        }
        guard first else { throw JobqError(.invalidState, "worker \(id) has already run; create a new Worker to run again") }
        // The engine runs in a task of its own so that cancelling `run()` does not cancel the
        // hand-back it still has to do; `run()` waits for it either way.
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

    func requestStop(_ request: StopRequest) {
        let changed = state.withLock { state -> Bool in
            if let current = state.stop, current >= request { return false }
            state.stop = request
            return true
        }
        guard changed else { return }
        stopRequested.notify()
        drainChanged.notify()
        capacityChanged.notify()
    }

    // MARK: The engine

    private func runEngine() async {
        logger.info("worker started", metadata: [
            "queues": .string(configuration.queues.joined(separator: ",")),
            "concurrency": .stringConvertible(configuration.concurrency),
            "namespace": .string(store.storeNamespace),
            "handlers": .string(registry.names.joined(separator: ",")),
            "lease": .string(WorkerConfiguration.format(configuration.lease)),
            "heartbeat": .string(WorkerConfiguration.format(configuration.heartbeat)),
        ])
        metrics.slots.record(configuration.concurrency)
        metrics.slotsBusy.record(0)
        await refreshClockOffset()
        await registerSelf()

        let heartbeat = Task { await self.heartbeatLoop() }
        let control = Task { await self.controlLoop() }
        let maintenance = Task { await self.maintenanceLoop() }
        let outcomeWriter = Task { await self.outcomeLoop() }
        let reportWriter = Task { await self.reportLoop() }
        let watcher = Task { await self.deadlines.run(self) }
        let claimer = Task { await self.claimLoop() }

        while state.withLock({ $0.stop == nil }) {
            await stopRequested.wait()
        }
        let request = state.withLock { state -> StopRequest in
            state.phase = .draining
            return state.stop ?? .graceful
        }
        logger.info("worker stopping: no more claims", metadata: ["reason": .string("\(request)")])
        claimer.cancel()
        await claimer.value

        // Let running tasks finish within the grace period (or until an immediate stop).
        let running = state.withLock { $0.busy }
        if running > 0 && request != .immediate {
            logger.info("waiting for running tasks to finish", metadata: [
                "running": .stringConvertible(running),
                "grace": .string(WorkerConfiguration.format(configuration.shutdownGrace)),
            ])
        }
        let graceEnd = ContinuousClock.now + configuration.shutdownGrace
        _ = await waitForDrain(until: graceEnd, stopEarlyOnImmediate: true) { $0.held.isEmpty }

        // Hand back whatever still runs.
        let now = ContinuousClock.now
        let remaining = state.withLock { Array($0.held.values) }
        var handedBack = 0
        for run in remaining where run.requestStop(.shutdown, stopTimeout: configuration.stopTimeout, now: now) {
            deadlines.nudge()
            handedBack += 1
        }
        if handedBack > 0 {
            logger.notice("handing back tasks still running", metadata: ["tasks": .stringConvertible(handedBack)])
        }
        let finishEnd = ContinuousClock.now + configuration.stopTimeout + .seconds(5)
        let recorded = await waitForDrain(until: finishEnd, stopEarlyOnImmediate: false) { $0.held.isEmpty }
        if !recorded {
            let left = state.withLock { $0.held.keys.map(\.id) }.sorted()
            logger.error("could not record the outcome of some tasks before stopping; they run again once their lease expires", metadata: [
                "tasks": .string(left.joined(separator: ",")),
            ])
        }
        let stuck = state.withLock { $0.busy }
        if stuck > 0 {
            logger.warning("some handlers ignored cancellation and are still running; abandoning them", metadata: ["handlers": .stringConvertible(stuck)])
        }

        state.withLock { $0.phase = .finishing }
        outcomesQueued.notify()
        reportsQueued.notify()
        for loop in [heartbeat, control, maintenance, outcomeWriter, reportWriter, watcher] { loop.cancel() }
        deadlines.stop()
        for loop in [heartbeat, maintenance, outcomeWriter, reportWriter, watcher] { await loop.value }
        do {
            try await store.unregister(worker: id)
        } catch {
            logger.warning("could not unregister the worker (its registration expires by itself)", metadata: ["error": .string(error.description)])
        }
        state.withLock { $0.phase = .stopped }
        logger.info("worker stopped")
    }

    /// Waits until `condition` holds or `deadline` passes; true if it holds.
    private func waitForDrain(
        until deadline: ContinuousClock.Instant, stopEarlyOnImmediate: Bool, _ condition: @Sendable (State) -> Bool
    ) async -> Bool {
        while true {
            let (done, immediate) = state.withLock { (condition($0), $0.stop == .immediate) }
            if done { return true }
            if stopEarlyOnImmediate && immediate { return false }
            if ContinuousClock.now >= deadline { return false }
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

    /// How long until `dueMilliseconds` (Redis clock); zero if it has passed.
    func timeUntil(redisMilliseconds dueMilliseconds: Int64) -> Duration {
        let offset = state.withLock { $0.clockOffset }
        let left = dueMilliseconds - (Self.localMilliseconds() + offset)
        return left > 0 ? .milliseconds(left) : .zero
    }

    // MARK: Registration

    func registerSelf() async {
        let running = runningTaskIDs
        let info = WorkerRegistration(
            id: id, host: ProcessInfo.processInfo.hostName, pid: Int(ProcessInfo.processInfo.processIdentifier),
            queues: configuration.queues, concurrency: configuration.concurrency, running: running
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
    public var isStopping: Bool { state.withLock { $0.phase != .running || $0.stop != nil } }

    /// Sends SIGKILL to the process group of every command handler still running, e.g. just
    /// before a forced exit, so no child outlives the worker.
    public func killRunningCommands() {
        CommandProcess.killAll(signal: SIGKILL)
    }
}
