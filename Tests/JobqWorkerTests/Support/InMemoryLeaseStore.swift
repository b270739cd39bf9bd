import Foundation
@testable import JobqCore
import JobqWorker
import Synchronization

/// An in-memory ``TaskLeaseStore`` for testing the worker's decisions (what it claims, what it
/// records, when it hands back) without Redis. It is not a model of the broker: it keeps just
/// enough state to fence writes (a lease is current while its token is) and records every call.
/// The broker's own behaviour is tested against a real redis-server elsewhere.
final class InMemoryLeaseStore: TaskLeaseStore {
    struct State {
        var ready: [String: [ClaimedTask]] = [:]
        /// Quarantined crash suspects: handed only to idle claims, one at a time (mode `.alone`);
        /// a busy claim while one waits is told to drain (mode `.drain`), as claim.lua does.
        var suspects: [ClaimedTask] = []
        /// The `idle` flag of every claim, and the mode each got.
        var claimIdle: [Bool] = []
        var claimModes: [ClaimMode] = []
        /// Current token of each task held under a lease.
        var leased: [String: Int] = [:]
        var cancelRequested: Set<String> = []
        var nextToken = 1
        var claimCounts: [Int] = []
        var completions: [Completion] = []
        var failures: [Failure] = []
        var heartbeats: [[TaskLease]] = []
        var registered = false
        var unregistered = false
        var control: [String] = []
    }

    let state = Mutex(State())
    private let workSignal = Signal()
    private let controlSignal = Signal()
    /// Called before `complete` answers (after the call was received): lets a test interleave.
    let beforeComplete = Mutex<(@Sendable ([Completion]) async -> Void)?>(nil)

    var storeNamespace: String { "memory" }
    var maxResultBytes: Int { 1 << 20 }

    // MARK: Test controls

    /// Makes a task ready on `queue`.
    func add(_ id: String, handler: String, queue: String = "default", payload: String = "null", timeout: Duration = .seconds(60)) {
        let task = ClaimedTask(
            id: id, handler: handler, queue: queue, payload: Array(payload.utf8), attempt: 1, maxAttempts: 3,
            lease: TaskLease(id: id, token: 0), timeout: timeout, leaseDeadline: 0, workflow: nil,
            backoff: .fixed(delay: .seconds(1)), title: "", prerequisites: []
        )
        state.withLock { $0.ready[queue, default: []].append(task) }
        workSignal.notify()
    }

    /// Makes a quarantined suspect wait (see ``State/suspects``).
    func addSuspect(_ id: String, handler: String, payload: String = "null") {
        let task = ClaimedTask(
            id: id, handler: handler, queue: "default", payload: Array(payload.utf8), attempt: 1, maxAttempts: 3,
            lease: TaskLease(id: id, token: 0), timeout: .seconds(60), leaseDeadline: 0, workflow: nil,
            backoff: .fixed(delay: .seconds(1)), title: "", prerequisites: []
        )
        state.withLock { $0.suspects.append(task) }
        workSignal.notify()
    }

    /// Requests cancellation of a held task, as `jobq cancel` does: flag it and push its id.
    func cancel(_ id: String) {
        state.withLock { state in
            state.cancelRequested.insert(id)
            state.control.append(id)
        }
        controlSignal.notify()
    }

    /// Takes the lease away from `id` (it expired and was reaped, or re-claimed elsewhere).
    func revokeLease(_ id: String) {
        state.withLock { state in
            if state.leased[id] != nil { state.leased[id] = -1 }
        }
    }

    var snapshot: State { state.withLock { $0 } }

    // MARK: TaskLeaseStore

    func claim(queues: [String], count: Int, lease: Duration, worker: String, idle: Bool) async throws(JobqError) -> ClaimBatch {
        state.withLock { state in
            state.claimCounts.append(count)
            state.claimIdle.append(idle)
            func lease(_ task: ClaimedTask) -> ClaimedTask {
                let token = state.nextToken
                state.nextToken += 1
                state.leased[task.id] = token
                return ClaimedTask(
                    id: task.id, handler: task.handler, queue: task.queue, payload: task.payload, attempt: task.attempt,
                    maxAttempts: task.maxAttempts, lease: TaskLease(id: task.id, token: token), timeout: task.timeout,
                    leaseDeadline: 0, workflow: nil, backoff: task.backoff, title: task.title, prerequisites: []
                )
            }
            if !state.suspects.isEmpty {
                guard idle else {
                    state.claimModes.append(.drain)
                    return ClaimBatch(tasks: [], mode: .drain)
                }
                state.claimModes.append(.alone)
                return ClaimBatch(tasks: [lease(state.suspects.removeFirst())], mode: .alone)
            }
            state.claimModes.append(.normal)
            var taken: [ClaimedTask] = []
            for queue in queues {
                while taken.count < count, var list = state.ready[queue], !list.isEmpty {
                    let task = list.removeFirst()
                    state.ready[queue] = list
                    taken.append(lease(task))
                }
            }
            return ClaimBatch(tasks: taken)
        }
    }

    func heartbeat(_ leases: [TaskLease], lease: Duration, worker: String) async throws(JobqError) -> [LeaseWriteOutcome] {
        state.withLock { state in
            state.heartbeats.append(leases)
            return leases.map { held in
                guard state.leased[held.id] == held.token else { return .refused(.staleToken) }
                return state.cancelRequested.contains(held.id) ? .cancelRequested : .extended
            }
        }
    }

    func complete(_ completions: [Completion]) async throws(JobqError) -> LeaseWriteBatch {
        if let hook = beforeComplete.withLock({ $0 }) { await hook(completions) }
        let outcomes = state.withLock { state in
            completions.map { completion -> LeaseWriteOutcome in
                state.completions.append(completion)
                guard state.leased[completion.lease.id] == completion.lease.token else { return .refused(.staleToken) }
                state.leased[completion.lease.id] = nil
                return .done
            }
        }
        return LeaseWriteBatch(outcomes: outcomes)
    }

    func continueCascades() async throws(JobqError) {}

    func fail(_ failures: [Failure]) async throws(JobqError) -> LeaseWriteBatch {
        LeaseWriteBatch(outcomes: failOutcomes(failures))
    }

    private func failOutcomes(_ failures: [Failure]) -> [LeaseWriteOutcome] {
        state.withLock { state in
            failures.map { failure in
                state.failures.append(failure)
                guard state.leased[failure.lease.id] == failure.lease.token else { return .refused(.staleToken) }
                state.leased[failure.lease.id] = nil
                switch failure.mode {
                case .retry: return .retrying
                case .final: return .failed
                case .cancelled: return .cancelled
                case .handBack: return .handedBack
                case .snooze, .rateLimited: return .snoozed
                case .wait, .children: return .waiting
                }
            }
        }
    }

    func report(_ lease: TaskLease, progress: [ProgressEntry], log lines: [String]) async throws(JobqError) -> LeaseWriteOutcome {
        state.withLock { $0.leased[lease.id] == lease.token ? .extended : .refused(.staleToken) }
    }

    func saveCheckpoint(_ lease: TaskLease, _ checkpoint: [UInt8]) async throws(JobqError) -> LeaseWriteOutcome {
        state.withLock { $0.leased[lease.id] == lease.token ? .extended : .refused(.staleToken) }
    }

    func startChildRun(_ request: ChildRunRequest, parent: String) async throws(JobqError) -> String {
        throw JobqError(.invalidOption, "the in-memory store runs no sub-workflows")
    }

    func spawnChildRun(_ request: ChildRunRequest, lease: TaskLease, key: String, policy: ChildFailurePolicy) async throws(JobqError) -> SpawnedRun {
        throw JobqError(.invalidOption, "the in-memory store spawns no children")
    }

    func childRun(_ id: String) async throws(JobqError) -> RunInfo? { nil }

    func childResults(run: String, after cursor: WorkflowPageCursor?, limit: Int) async throws(JobqError) -> (results: [ChildResult], next: WorkflowPageCursor?) {
        ([], nil)
    }

    func resolveRetvals(in payload: [UInt8], prerequisites: [PrerequisiteOutcome], scope: String?) async throws(JobqError) -> [UInt8] {
        payload
    }

    func waitForWork(queues: [String], timeout: Duration) async throws(JobqError) -> Bool {
        let ready = { self.state.withLock { state in queues.contains { !(state.ready[$0] ?? []).isEmpty } } }
        let since = workSignal.current
        if ready() { return true }
        await workSignal.wait(since: since, timeout: timeout)
        return ready()
    }

    func waitForControl(worker: String, timeout: Duration) async throws(JobqError) -> [String] {
        let take = {
            self.state.withLock { state -> [String] in
                defer { state.control = [] }
                return state.control
            }
        }
        let since = controlSignal.current
        let now = take()
        if !now.isEmpty { return now }
        await controlSignal.wait(since: since, timeout: timeout)
        return take()
    }

    func maintain(owner: String, interval: Duration) async throws(JobqError) -> MaintenanceReport? { nil }

    func promoteDueTasks() async throws(JobqError) -> PromoteReport { PromoteReport(promoted: 0, nextDue: nil) }

    func runningTaskCount() async throws(JobqError) -> Int { state.withLock { $0.leased.count } }

    func serverTime() async throws(JobqError) -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    func register(_ registration: WorkerRegistration, ttl: Duration) async throws(JobqError) {
        state.withLock { $0.registered = true }
    }

    func unregister(worker id: String) async throws(JobqError) {
        state.withLock { $0.unregistered = true }
    }
}

/// A broadcast wake-up: every waiter returns on `notify()`, on its timeout, or on cancellation.
private final class Signal: Sendable {
    private let generation = Mutex(0)

    func notify() { generation.withLock { $0 += 1 } }

    var current: Int { generation.withLock { $0 } }

    /// Returns when notified since `start` (a ``current`` value), `timeout` passed, or the task
    /// is cancelled. (Checks every millisecond: this is test support, not the worker.)
    func wait(since start: Int, timeout: Duration) async {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end, !Task.isCancelled, generation.withLock({ $0 }) == start {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }
}
