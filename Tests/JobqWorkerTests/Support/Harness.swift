import Foundation
import Jobq
import JobqCore
import JobqRedis
import JobqTestSupport
import JobqWorker
import Logging
import Synchronization
import Testing

/// Enabled when redis-server is installed, and always in CI (where its absence must fail).
let redisAvailable = RedisServerFixture.shouldRun

/// A fresh namespace on the shared test server, a producer client, and the workers a test
/// started (all stopped when the test ends, pass or fail).
final class Harness: Sendable {
    let server: RedisServerFixture
    let client: JobqClient
    let namespace: String
    private let workers = Mutex<[RunningWorker]>([])

    var coordinator: Coordinator { client.engine }

    init(server: RedisServerFixture, namespace: String = Harness.freshNamespace()) throws {
        self.server = server
        self.namespace = namespace
        self.client = JobqClient(engine: try Coordinator(redis: server.makeClient(), namespace: namespace))
    }

    /// `test-<hex>`: inside the namespace grammar (no colons).
    static func freshNamespace() -> String {
        "test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// Test timings: short heartbeats and maintenance so tests take milliseconds, not seconds.
    static func testConfiguration(queues: [String] = ["default"], concurrency: Int = 4) -> WorkerConfiguration {
        var configuration = WorkerConfiguration(queues: queues, concurrency: concurrency)
        configuration.lease = .seconds(3)
        configuration.heartbeat = .milliseconds(100)
        configuration.maintenanceInterval = .milliseconds(100)
        configuration.shutdownGrace = .seconds(5)
        configuration.stopTimeout = .seconds(2)
        configuration.idleWait = .seconds(1)
        configuration.reportInterval = .milliseconds(20)
        return configuration
    }

    /// Starts a worker with its own Redis connection; it is stopped when the test ends.
    @discardableResult
    func startWorker(_ registry: HandlerRegistry, _ configure: (inout WorkerConfiguration) -> Void = { _ in }) throws -> RunningWorker {
        var configuration = Self.testConfiguration()
        configure(&configuration)
        let coordinator = try Coordinator(redis: server.makeClient(), namespace: namespace)
        var logger = Logger(label: "test.worker")
        logger.logLevel = ProcessInfo.processInfo.environment["JOBQ_TEST_LOG"] == nil ? .critical : .debug
        let worker = try Worker(store: coordinator, registry: registry, configuration: configuration, logger: logger)
        let running = RunningWorker(worker: worker, task: Task { try await worker.run() }, redis: coordinator.redis)
        workers.withLock { $0.append(running) }
        return running
    }

    func close() async {
        for running in workers.withLock({ $0 }) {
            running.worker.stopNow()
            _ = try? await running.task.value
            await running.redis?.close()
        }
        await client.close()
    }

    // MARK: Waiting for events

    /// Waits (XREAD BLOCK on the namespace's event stream, no polling) until task `id` enters
    /// `state`; returns at once if it already did.
    func awaitTransition(_ id: String, to state: TaskState, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        var position = "0-0"
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                let current = try await coordinator.tasks.task(id)?.state
                Issue.record("task \(id) did not enter \(state) within \(timeout) (it is \(current?.rawValue ?? "missing"))")
                throw HarnessError.timeout
            }
            let (records, next) = try await coordinator.inspector.events(after: position, block: left)
            position = next
            if records.contains(where: { $0.task == id && $0.to == state }) { return }
        }
    }

    /// The task's final record (waits for a terminal state).
    func finished(_ id: String, timeout: Duration = .seconds(15)) async throws -> TaskInfo {
        try await client.wait(for: id, timeout: timeout)
    }
}

enum HarnessError: Error {
    case timeout
}

/// A worker started by a test, with the task running it.
struct RunningWorker: Sendable {
    let worker: Worker
    let task: Task<Void, any Error>
    /// The worker's own connection (closed when the test ends).
    var redis: RedisClient? = nil

    /// Graceful shutdown; returns when `run()` has.
    func shutdown() async throws {
        worker.shutdown()
        try await task.value
    }
}

/// Runs `body` with a fresh harness on the shared server; stops its workers afterwards.
func withHarness(_ body: (Harness) async throws -> Void) async throws {
    let harness = try Harness(server: try await RedisServerFixture.shared())
    do {
        try await body(harness)
    } catch {
        await harness.close()
        throw error
    }
    await harness.close()
}

/// A one-shot flag a handler sets and a test awaits (no polling).
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    var isOpen: Bool { state.withLock { $0.open } }

    /// Waits until opened; throws after `timeout`.
    func wait(timeout: Duration = .seconds(10)) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let now = self.state.withLock { state -> Bool in
                        if state.open { return true }
                        state.waiters.append(continuation)
                        return false
                    }
                    if now { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let opened = try await group.next() ?? false
            group.cancelAll()
            if !opened {
                Issue.record("gate not opened within \(timeout)")
                throw HarnessError.timeout
            }
        }
    }
}

/// A value set by a handler and read by the test.
final class Box<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
    func update(_ change: (inout Value) -> Void) { value.withLock { change(&$0) } }
    var current: Value { value.withLock { $0 } }
}

/// A spec for tests: fixed id, short default timeout, no backoff unless given.
func task(
    _ id: String, handler: String, payload: String = "null", after prerequisites: [String] = [], maxAttempts: Int = 3,
    timeout: Duration = .seconds(30), backoff: RetryBackoff = .fixed(delay: .zero), queue: String = "default"
) -> TaskSpec {
    TaskSpec(
        id: id, handler: handler, queue: queue, payload: Array(payload.utf8), prerequisites: prerequisites.map { Prerequisite($0) },
        maxAttempts: maxAttempts, backoff: backoff, timeout: timeout
    )
}
