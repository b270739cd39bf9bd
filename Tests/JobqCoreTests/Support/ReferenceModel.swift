@testable import JobqCore

/// A small pure-Swift model of the task semantics, written independently of the Lua scripts,
/// for the model-based test: both receive the same operations and must agree on every task.
struct ReferenceModel {
    struct Task {
        var state: TaskState
        /// Its priority within the queue: its ready lane.
        var priority = 0
        var attempts = 0
        var maxAttempts: Int
        var prerequisites: [(id: String, policy: DependencyPolicy)]
        var dependents: [(id: String, policy: DependencyPolicy)] = []
        var unresolved = 0
        var runAfter: Int64 = 0
        /// Waiting for `runAfter` (in the delayed set).
        var delayed = false
        var cancelRequested = false
        var token = 0
        var leaseDeadline: Int64 = 0
        var reason = ""
        /// Worker deaths beside other tasks (refunded); 2 or more: quarantine.
        var suspect = 0
        /// The token of the claim that ran it alone, if any.
        var aloneToken: Int?
        /// Not started by then, it ends CANCELLED (`expired`); dropped by its first claim and by
        /// a retry.
        var expiresAt: Int64?
        /// Snoozes so far and the budget (a snooze past it is a failed attempt).
        var snoozes = 0
        var maxSnoozes = TaskSpec.defaultMaxSnoozes
        /// The signal its handler waits for (PENDING in no queue), and when that wait times out
        /// (0: never).
        var waitingFor: String?
        var waitUntil: Int64 = 0
        /// The signals sent to it and kept (never lost, the latest payload wins).
        var signals: Set<String> = []
        /// The child run its handler spawned (`spawned`): a normal completion waits for it, and
        /// the task ending FAILED or CANCELLED cancels it. Kept across retries.
        var spawned: String?
        /// The child run it waits for (PENDING in no queue) and whether it waits to be invoked
        /// again (`waitForChildren`) rather than to end with the run (chord style).
        var child: String?
        var childWait = false
    }

    /// A run (tasks `RUN/KEY`): its window, its critical tasks, the tasks held back by a full
    /// window (oldest first), and whether a critical task's failure stopped it.
    struct Run {
        var window: Int?
        var critical: Set<String> = []
        var tasks: [String] = []
        var parked: [String] = []
        var stopped = false
        /// A spawned run: the task that spawned it, whether its failure wakes that task (rather
        /// than failing it), and its width (a re-spawn of another width is refused).
        var parent: String?
        var wakeParent = false
        var width = 0
        /// Cancelled from above (its parent ended): it ends CANCELLED rather than FAILED.
        var cancelled = false
        /// Its final state once every task has ended.
        var finished: TaskState?
    }

    var runs: [String: Run] = [:]
    /// How child runs' ends resolved their parents (woken, done, child_failed), for the test's report.
    var resolutions: [String: Int] = [:]
    /// Runs in creation order (the order ends are looked at).
    var runOrder: [String] = []

    var tasks: [String: Task] = [:]
    var now: Int64
    /// The ready lanes by priority, each oldest first, stale entries included (the scripts drop
    /// them lazily).
    var lanes: [Int: [String]] = [:]
    /// Every ready lane in claim order (highest priority first).
    var ready: [String] { lanes.keys.sorted(by: >).flatMap { lanes[$0] ?? [] } }
    /// Queues `id` on its priority's lane: at the back, or at the front (woken from a window).
    mutating func enqueue(_ id: String, front: Bool = false) {
        let priority = tasks[id]?.priority ?? 0
        if front { lanes[priority, default: []].insert(id, at: 0) } else { lanes[priority, default: []].append(id) }
    }
    /// Taken back from dead workers, claimed before `ready`.
    var recovered: [String] = []
    /// Crash suspects: one per idle claim, run alone; a busy claim while any id (even a stale
    /// one) waits here is told to drain.
    var quarantine: [String] = []
    /// While a claim pops: what it makes ready (an expired task's released dependents) is queued
    /// when the call ends, as the scripts' deferred pushes are, so the same call never takes it.
    var claiming = false
    var queuedByClaim: [String] = []

    /// Whether `id` may start now.
    func isClaimable(_ id: String) -> Bool {
        guard let task = tasks[id] else { return false }
        return task.state == .pending && task.unresolved <= 0 && task.runAfter <= now && task.waitingFor == nil && task.child == nil
    }

    /// What claim (count 1) takes: an idle claim first pops quarantine (the task then runs
    /// alone); a busy one is told to drain while quarantine holds anything; then recovered,
    /// then ready, oldest first, dropping stale entries, within the script's budget of 36 pops.
    mutating func nextClaim(idle: Bool) -> (id: String?, mode: ClaimMode) {
        claiming = true
        defer {
            claiming = false
            for id in queuedByClaim { enqueue(id) }
            queuedByClaim = []
        }
        var budget = 36
        var picked: Set<String> = [] // a second copy of an id this call took (or parked) is dropped
        if idle {
            if let id = pop(\.quarantine, budget: &budget, picked: &picked) { return (id, .alone) }
        } else if !quarantine.isEmpty {
            return (nil, .drain)
        }
        if let id = pop(\.recovered, budget: &budget, picked: &picked) { return (id, .normal) }
        for priority in lanes.keys.sorted(by: >) {
            if let id = pop(\.lanes[priority]!, budget: &budget, picked: &picked) { return (id, .normal) }
        }
        return (nil, .normal)
    }

    /// Pops `list` oldest first until a claimable id, dropping stale ones, within `budget`. A
    /// claimable task of a run whose window is full is parked instead, and popping goes on.
    private mutating func pop(_ list: WritableKeyPath<ReferenceModel, [String]>, budget: inout Int, picked: inout Set<String>) -> String? {
        while budget > 0, !self[keyPath: list].isEmpty {
            let id = self[keyPath: list].removeFirst()
            budget -= 1
            guard isClaimable(id), picked.insert(id).inserted else { continue }
            if let at = tasks[id]!.expiresAt, at <= now {
                end(id, as: .cancelled, reason: "expired") // not started by its expiry: never runs
                continue
            }
            if let run = RunScope.run(of: id), let window = runs[run]?.window, running(run) >= window {
                runs[run]!.parked.append(id)
                continue
            }
            return id
        }
        return nil
    }

    /// How many tasks of `run` are RUNNING.
    func running(_ run: String) -> Int {
        (runs[run]?.tasks ?? []).filter { tasks[$0]?.state == .running }.count
    }

    /// After a call in which tasks of `run` left RUNNING: one parked task per free slot is queued
    /// again at the front of the ready list (the last one queued is taken first); stale ones
    /// are dropped.
    mutating func unpark(_ run: String) {
        guard let window = runs[run]?.window else { return }
        var free = window - running(run)
        while free > 0, !(runs[run]?.parked.isEmpty ?? true) {
            let id = runs[run]!.parked.removeFirst()
            if tasks[id]?.state == .pending {
                enqueue(id, front: true)
                free -= 1
            }
        }
    }

    /// A run whose tasks have all ended forgets its parked list (finish_run deletes it; what is
    /// left there has ended, so it changes nothing else).
    mutating func forgetParkedOfEndedRuns() {
        for (run, model) in runs where model.tasks.allSatisfy({ tasks[$0]?.state.isTerminal == true }) {
            runs[run]!.parked = []
        }
    }

    /// A run: its tasks are `RUN/KEY`, edges among them only (none has ended yet).
    mutating func submitRun(_ run: String, window: Int?, critical: Set<String>, tasks specs: [(key: String, maxAttempts: Int, prerequisites: [(String, DependencyPolicy)])]) {
        runs[run] = Run(window: window, critical: critical, tasks: specs.map { RunScope.id(run: run, key: $0.key) }, width: specs.count)
        runOrder.append(run)
        // submit.lua writes (edges, dispatches) in Kahn's order: the roots in batch order, then
        // each task as its last prerequisite in the batch is passed.
        var indegree: [String: Int] = [:]
        var children: [String: [String]] = [:]
        for spec in specs {
            indegree[spec.key] = spec.prerequisites.count
            for (prerequisite, _) in spec.prerequisites { children[prerequisite, default: []].append(spec.key) }
        }
        var order = specs.filter { $0.prerequisites.isEmpty }.map(\.key)
        var head = 0
        while head < order.count {
            let key = order[head]
            head += 1
            for child in children[key] ?? [] {
                indegree[child]! -= 1
                if indegree[child] == 0 { order.append(child) }
            }
        }
        let byKey = Dictionary(specs.map { ($0.key, $0) }) { first, _ in first }
        for key in order {
            let spec = byKey[key]!
            submit(RunScope.id(run: run, key: spec.key), maxAttempts: spec.maxAttempts,
                   prerequisites: spec.prerequisites.map { (RunScope.id(run: run, key: $0.0), $0.1) })
        }
    }

    /// A critical task of `run` failed for good: the rest of the run is cancelled, in submission
    /// order, each pending task with its cascade; running ones are asked to stop.
    mutating func stop(_ run: String) {
        guard runs[run]?.stopped == false else { return }
        runs[run]!.stopped = true
        for id in runs[run]!.tasks {
            switch tasks[id]?.state {
            case .pending: cancelPending(id, reason: "fail_fast")
            case .running: tasks[id]!.cancelRequested = true
            default: break
            }
        }
    }

    /// A PENDING task is cancelled (cancel.lua's cancel_one): a task waiting for a child run,
    /// or queued again with a run it spawned, cancels that run too.
    mutating func cancelPending(_ id: String, reason: String) {
        let below = tasks[id]!.child ?? tasks[id]!.spawned
        end(id, as: .cancelled, reason: reason)
        if let below { cancelChildRun(below) }
    }

    /// A run cancelled from above (prelude cancel_child_run): its pending tasks end CANCELLED
    /// (each cancelling what it waits for), its running ones are asked to stop; it ends
    /// CANCELLED. The scripts walk it in follow-up calls; the test settles them every step.
    mutating func cancelChildRun(_ run: String) {
        guard let model = runs[run], model.finished == nil else { return }
        runs[run]!.cancelled = true
        for id in model.tasks {
            switch tasks[id]?.state {
            case .pending: cancelPending(id, reason: "cancelled")
            case .running: tasks[id]!.cancelRequested = true
            default: break
            }
        }
    }

    /// A task that ended for good cancels the run it spawned, if still open (prelude SPAWN.ended).
    private mutating func endedForGood(_ id: String) {
        if let spawned = tasks[id]?.spawned { cancelChildRun(spawned) }
    }

    enum SpawnResult: Equatable { case created, attached, refused(JobqError.Code) }

    /// A running task spawns `run` (submit.lua's `spawned_by` fence, prelude SPAWN): refused for a
    /// task not running, a stale token, another spawned run still open; attached when the run
    /// exists (refused when of another width); else created (the caller submits its tasks).
    mutating func spawn(_ run: String, parent: String, token: Int, width: Int, wakeParent: Bool) -> SpawnResult {
        guard let task = tasks[parent] else { return .refused(.notFound) }
        guard task.state == .running else { return .refused(.invalidState) }
        guard task.token == token else { return .refused(.staleToken) }
        if let open = task.spawned, open != run, runs[open]?.finished == nil { return .refused(.invalidState) }
        if let existing = runs[run] {
            guard existing.width == width else { return .refused(.idempotencyConflict) }
            if existing.finished == nil { tasks[parent]!.spawned = run }
            return .attached
        }
        tasks[parent]!.spawned = run
        return .created
    }

    /// Records a spawned run just submitted (after ``spawn(_:parent:token:width:wakeParent:)`` said created).
    mutating func recordSpawned(_ run: String, parent: String, wakeParent: Bool) {
        runs[run]!.parent = parent
        runs[run]!.wakeParent = wakeParent
    }

    /// Runs whose tasks have all ended take their final state, in creation order, and resolve
    /// the task waiting for them (prelude finish_run, resolve_parent); repeated while a
    /// resolution ends another run.
    mutating func finishRuns() {
        var changed = true
        while changed {
            changed = false
            for run in runOrder {
                guard let model = runs[run], model.finished == nil,
                      model.tasks.allSatisfy({ tasks[$0]?.state.isTerminal == true }) else { continue }
                let bad = model.tasks.contains { tasks[$0]?.state == .failed || tasks[$0]?.state == .cancelled }
                let state: TaskState = model.stopped ? .failed : bad ? (model.cancelled ? .cancelled : .failed) : .done
                runs[run]!.finished = state
                if let parent = model.parent { resolveParent(run, parent: parent, state: state) }
                changed = true
            }
        }
    }

    /// The run `run` ended `state`: the task waiting for it is queued again (it waits to be
    /// invoked again, and the run ended DONE or its policy wakes it), or ends with it.
    private mutating func resolveParent(_ run: String, parent: String, state: TaskState) {
        guard let task = tasks[parent], task.state == .pending, task.child == run else { return }
        if task.childWait, state == .done || runs[run]?.wakeParent == true {
            tasks[parent]!.child = nil
            tasks[parent]!.childWait = false
            tasks[parent]!.spawned = nil
            dispatch(parent)
            resolutions["woken", default: 0] += 1
            return
        }
        tasks[parent]!.child = nil
        tasks[parent]!.childWait = false
        resolutions[state == .done ? "done" : "child_failed", default: 0] += 1
        if state == .done {
            end(parent, as: .done, reason: "")
        } else {
            end(parent, as: .failed, reason: "child_failed")
            failedForGood(parent)
        }
    }

    /// The task now waits for its spawned run (in no queue); resolved at once when it has ended.
    private mutating func awaitSpawned(_ id: String, wait: Bool) {
        let run = tasks[id]!.spawned!
        tasks[id]!.state = .pending
        tasks[id]!.runAfter = 0
        tasks[id]!.child = run
        tasks[id]!.childWait = wait
        if let state = runs[run]?.finished { resolveParent(run, parent: id, state: state) }
    }

    /// A task failed for good: stop its run if the task is critical.
    private mutating func failedForGood(_ id: String) {
        guard let run = RunScope.run(of: id), runs[run]?.critical.contains(RunScope.key(of: id)) == true else { return }
        stop(run)
    }

    mutating func submit(_ id: String, maxAttempts: Int, prerequisites: [(String, DependencyPolicy)], expiresAt: Int64? = nil, priority: Int = 0) {
        var task = Task(state: .pending, maxAttempts: maxAttempts, prerequisites: prerequisites.map { (id: $0.0, policy: $0.1) })
        task.expiresAt = expiresAt
        task.priority = priority
        var doomed = false
        for (prerequisite, policy) in prerequisites {
            tasks[prerequisite]?.dependents.append((id, policy))
            switch tasks[prerequisite]?.state {
            case .done, .skipped: break
            case .failed, .cancelled: if policy == .success { doomed = true }
            default: task.unresolved += 1
            }
        }
        if doomed {
            task.state = .cancelled
            task.reason = "dependency_failed"
            tasks[id] = task
        } else {
            tasks[id] = task
            if task.unresolved == 0 { dispatch(id) }
        }
    }

    mutating func dispatch(_ id: String) {
        if tasks[id]!.runAfter > now {
            tasks[id]!.delayed = true
        } else if claiming {
            queuedByClaim.append(id)
        } else {
            enqueue(id)
        }
    }

    mutating func claim(_ id: String, token: Int, lease: Int64, alone: Bool = false) {
        if alone { tasks[id]!.aloneToken = token }
        tasks[id]!.state = .running
        tasks[id]!.expiresAt = nil
        tasks[id]!.attempts += 1
        tasks[id]!.token = token
        tasks[id]!.leaseDeadline = now + lease
        tasks[id]!.cancelRequested = false
    }

    /// Returns whether the write was accepted. `skipped`: the handler skipped (SKIPPED). A task
    /// that spawned a run ends with it (chord style), unless `childrenRead`: its handler read the
    /// ended run's results and the task ends now.
    mutating func complete(_ id: String, token: Int, skipped: Bool = false, childrenRead: Bool = false) -> Bool {
        guard let task = tasks[id], task.state == .running, task.token == token else { return false }
        if let spawned = task.spawned, !childrenRead {
            if task.cancelRequested {
                end(id, as: .cancelled, reason: "cancelled")
                cancelChildRun(spawned)
            } else {
                awaitSpawned(id, wait: false)
            }
        } else {
            tasks[id]!.spawned = nil
            tasks[id]!.state = skipped ? .skipped : .done
            tasks[id]!.reason = skipped ? "skipped" : ""
            settle(id, outcome: .ok)
        }
        if let run = RunScope.run(of: id) { unpark(run) }
        finishRuns()
        return true
    }

    enum FailMode { case retry(delay: Int64), final, snooze(delay: Int64, retryDelay: Int64), wait(name: String, timeout: Int64), children }

    mutating func fail(_ id: String, token: Int, mode: FailMode) -> Bool {
        guard let task = tasks[id], task.state == .running, task.token == token else { return false }
        if case .children = mode, task.spawned == nil { return false } // nothing spawned to wait for
        var failed = false
        var ended = false
        var mode = mode
        if case .snooze(_, let retryDelay) = mode, task.snoozes >= task.maxSnoozes { mode = .retry(delay: retryDelay) }
        if task.cancelRequested {
            end(id, as: .cancelled, reason: "cancelled")
            ended = true
        } else if case .children = mode {
            // the handler waits for its children: the attempt is refunded, the task is in no queue
            tasks[id]!.attempts = max(task.attempts - 1, 0)
            awaitSpawned(id, wait: true)
        } else if case .snooze(let delay, _) = mode {
            // not yet: the attempt is refunded, the task waits `delay`
            tasks[id]!.state = .pending
            tasks[id]!.attempts = max(task.attempts - 1, 0)
            tasks[id]!.snoozes += 1
            tasks[id]!.runAfter = now + delay
            dispatch(id)
        } else if case .wait(let name, let timeout) = mode {
            // the handler waits for a signal: the attempt is refunded, the task is in no queue;
            // a signal of that name already kept resumes it at once
            tasks[id]!.state = .pending
            tasks[id]!.attempts = max(task.attempts - 1, 0)
            tasks[id]!.runAfter = 0
            if task.signals.contains(name) {
                dispatch(id)
            } else {
                tasks[id]!.waitingFor = name
                tasks[id]!.waitUntil = timeout > 0 ? now + timeout : 0
            }
        } else if case .retry(let delay) = mode, task.attempts < task.maxAttempts {
            tasks[id]!.state = .pending
            tasks[id]!.runAfter = delay > 0 ? now + delay : 0
            dispatch(id)
        } else {
            end(id, as: .failed, reason: "error")
            failed = true
            ended = true
        }
        // the call's flush unparks first; the stop it started is walked by the calls after it
        if let run = RunScope.run(of: id) { unpark(run) }
        if failed { failedForGood(id) }
        if ended { endedForGood(id) }
        finishRuns()
        return true
    }

    mutating func end(_ id: String, as state: TaskState, reason: String) {
        tasks[id]!.waitingFor = nil // an ended task waits for nothing
        tasks[id]!.waitUntil = 0
        tasks[id]!.child = nil
        tasks[id]!.childWait = false
        tasks[id]!.state = state
        tasks[id]!.reason = reason
        tasks[id]!.delayed = false
        settle(id, outcome: Outcome(state))
    }

    /// How a prerequisite ended, for its edges: DONE and SKIPPED are success.
    enum Outcome {
        case ok, failed, cancelled
        init(_ state: TaskState) {
            switch state {
            case .done, .skipped: self = .ok
            case .failed: self = .failed
            default: self = .cancelled
            }
        }
    }

    /// Marks a task ended without settling its dependents (the caller does).
    private mutating func endOnly(_ id: String, as state: TaskState, reason: String) {
        tasks[id]!.state = state
        tasks[id]!.reason = reason
        tasks[id]!.delayed = false
    }

    /// Releases, cancels or skips dependents by their edge (`success` runs after DONE/SKIPPED,
    /// `always` after anything, `failure` only after FAILED — else the dependent is SKIPPED and
    /// its own dependents run), with the same explicit stack (and so the same order of
    /// dispatches) as the scripts' settle_dependents.
    mutating func settle(_ root: String, outcome: Outcome) {
        var stack: [(String, Outcome)] = [(root, outcome)]
        while let (id, outcome) = stack.popLast() {
            for (dependent, policy) in tasks[id]!.dependents {
                let accepts = switch policy {
                case .success: outcome == .ok
                case .always: true
                case .failure: outcome == .failed
                }
                if accepts {
                    tasks[dependent]!.unresolved -= 1
                    if tasks[dependent]!.unresolved <= 0, tasks[dependent]!.state == .pending { dispatch(dependent) }
                } else if tasks[dependent]!.state == .pending {
                    if policy == .failure {
                        endOnly(dependent, as: .skipped, reason: "condition_unmet")
                        stack.append((dependent, .ok))
                    } else {
                        endOnly(dependent, as: .cancelled, reason: "dependency_failed")
                        stack.append((dependent, .cancelled))
                    }
                }
            }
        }
    }

    enum SignalResult: Equatable { case kept, resumed, ended, notFound }

    /// A signal is kept by a task that has not ended; one it waits for resumes it (queued).
    mutating func signal(_ id: String, name: String) -> SignalResult {
        guard let task = tasks[id] else { return .notFound }
        guard task.state == .pending || task.state == .running else { return .ended }
        tasks[id]!.signals.insert(name)
        guard task.state == .pending, task.waitingFor == name else { return .kept }
        tasks[id]!.waitingFor = nil
        tasks[id]!.waitUntil = 0
        dispatch(id)
        return .resumed
    }

    enum CancelResult: Equatable { case cancelled, requested, alreadyRequested, refused }

    mutating func cancel(_ id: String) -> CancelResult {
        switch tasks[id]?.state {
        case .pending:
            cancelPending(id, reason: "cancelled")
            finishRuns()
            return .cancelled
        case .running:
            if tasks[id]!.cancelRequested { return .alreadyRequested }
            tasks[id]!.cancelRequested = true
            return .requested
        default:
            return .refused
        }
    }

    /// In the leases index's order: by deadline, then id. Runs whose tasks left RUNNING unpark
    /// once, after all of them (as the script's flush does).
    mutating func reap() {
        let due = tasks.filter { $0.value.state == .running && $0.value.leaseDeadline <= now }
            .sorted { ($0.value.leaseDeadline, $0.key) < ($1.value.leaseDeadline, $1.key) }.map(\.key)
        var poisoned: [String] = []
        var ended: [String] = []
        defer {
            var seen: [String] = []
            for id in due { if let run = RunScope.run(of: id), !seen.contains(run) { seen.append(run) } }
            for run in seen { unpark(run) }
            for id in poisoned { failedForGood(id) }
            for id in ended { endedForGood(id) }
            finishRuns()
        }
        for id in due {
            let task = tasks[id]!
            let alone = task.aloneToken == task.token
            if task.cancelRequested {
                end(id, as: .cancelled, reason: "cancelled")
                ended.append(id)
            } else if alone, task.attempts >= task.maxAttempts {
                end(id, as: .failed, reason: "poison")
                poisoned.append(id)
                ended.append(id)
            } else if alone {
                tasks[id]!.state = .pending
                tasks[id]!.runAfter = 0
                quarantine.append(id)
            } else {
                // Beside other tasks: not charged, a suspect one level up.
                tasks[id]!.state = .pending
                tasks[id]!.runAfter = 0
                tasks[id]!.attempts = max(task.attempts - 1, 0)
                tasks[id]!.suspect += 1
                if tasks[id]!.suspect >= 2 { quarantine.append(id) } else { recovered.append(id) }
            }
        }
    }

    /// First the expired (by expiry, then id), then the timed-out signal waits, then the delayed in the delayed index's order: by
    /// due time, then id.
    mutating func promote() {
        let expired = tasks.filter { $0.value.state == .pending && ($0.value.expiresAt ?? .max) <= now }
            .sorted { ($0.value.expiresAt!, $0.key) < ($1.value.expiresAt!, $1.key) }.map(\.key)
        for id in expired where tasks[id]!.state == .pending { end(id, as: .cancelled, reason: "expired") }
        // then waits whose timeout passed (by time, then id): FAILED, as a failure settles
        let timedOut = tasks.filter { $0.value.state == .pending && $0.value.waitingFor != nil && $0.value.waitUntil > 0 && $0.value.waitUntil <= now }
            .sorted { ($0.value.waitUntil, $0.key) < ($1.value.waitUntil, $1.key) }.map(\.key)
        for id in timedOut where tasks[id]!.state == .pending {
            tasks[id]!.waitingFor = nil
            tasks[id]!.waitUntil = 0
            end(id, as: .failed, reason: "signal_timeout")
            failedForGood(id)
        }
        let due = tasks.filter { $0.value.delayed && $0.value.runAfter <= now }
            .sorted { ($0.value.runAfter, $0.key) < ($1.value.runAfter, $1.key) }.map(\.key)
        for id in due {
            tasks[id]!.delayed = false
            if tasks[id]!.state == .pending, tasks[id]!.unresolved <= 0 {
                tasks[id]!.runAfter = 0
                enqueue(id)
            }
        }
    }

    /// `nil` when refused; else the re-opened ids.
    mutating func retry(_ id: String) -> Set<String>? {
        guard let state = tasks[id]?.state, state == .failed || state == .cancelled else { return nil }
        guard let unresolved = unresolvedIfRetryable(id) else { return nil }
        var reopened: Set<String> = []
        reopen(id, unresolved: unresolved)
        reopened.insert(id)
        var queue = [id]
        while !queue.isEmpty {
            let current = queue.removeFirst()
            for (dependent, _) in tasks[current]!.dependents {
                guard tasks[dependent]!.state == .cancelled, tasks[dependent]!.reason == "dependency_failed",
                    let left = unresolvedIfRetryable(dependent) else { continue }
                reopen(dependent, unresolved: left)
                reopened.insert(dependent)
                queue.append(dependent)
            }
        }
        return reopened
    }

    private func unresolvedIfRetryable(_ id: String) -> Int? {
        var left = 0
        for (prerequisite, policy) in tasks[id]!.prerequisites {
            switch tasks[prerequisite]?.state {
            case .done, .skipped: break
            case .failed, .cancelled, nil: if policy == .success { return nil }
            default: left += 1
            }
        }
        return left
    }

    private mutating func reopen(_ id: String, unresolved: Int) {
        for (dependent, policy) in tasks[id]!.dependents
        where policy == .always && tasks[dependent]!.state == .pending && tasks[dependent]!.unresolved > 0 {
            tasks[dependent]!.unresolved += 1
        }
        tasks[id]!.state = .pending
        tasks[id]!.expiresAt = nil
        tasks[id]!.attempts = 0
        tasks[id]!.snoozes = 0
        tasks[id]!.unresolved = unresolved
        tasks[id]!.runAfter = 0
        tasks[id]!.cancelRequested = false
        tasks[id]!.reason = ""
        tasks[id]!.delayed = false
        if unresolved == 0 { enqueue(id) }
    }
}
