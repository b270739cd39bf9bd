/// Builds every Redis key jobq uses; nothing else concatenates key strings.
///
/// All keys of a namespace share the hash tag `{ns}`, so multi-key scripts stay valid on a
/// Redis Cluster. The layout is data (``Keyspace/layout``): Swift builds keys from it, the Lua
/// key table `K` every script uses is rendered from it (``Keyspace/luaSource``), and a test
/// checks that `docs/keyspace.md` lists every entry — the three cannot drift apart.
public struct Keyspace: Sendable, Hashable {
    /// The namespace: one independent jobq installation per namespace.
    public let namespace: String
    /// `jobq:{ns}:`, passed to every script as `KEYS[1]`.
    public let prefix: String

    public init(namespace: String) throws(JobqError) {
        try Validation.check(name: namespace, as: .namespace)
        self.namespace = namespace
        self.prefix = "jobq:{\(namespace)}:"
    }

    /// One key shape: `prefix + head + parameter + tail`, or `prefix + head` when it takes none.
    package struct Pattern: Sendable, Hashable {
        /// The name in the Lua table `K` (`K.deps(id)`, `K.delayed`).
        package let lua: String
        package let head: String
        /// What the key is parameterised by (`id`, `queue`, …), or `nil` for a fixed key.
        package let parameter: String?
        package let tail: String
        /// A second parameter after `tail` (`q:<queue>:p:<priority>`), or `nil`.
        package var second: String? = nil

        /// The form docs/keyspace.md uses: `t:<id>:deps`, `delayed`.
        package var documented: String { head + (parameter.map { "<\($0)>" } ?? "") + tail + (second.map { "<\($0)>" } ?? "") }

        func key(_ prefix: String, _ argument: String = "", _ secondArgument: String = "") -> String { prefix + head + argument + tail + secondArgument }
    }

    // The layout: one entry per key shape. Names inside keys follow the name grammar
    // (Validation), so they never contain ':', '{' or '}' and cannot collide with the structure.
    package static let taskPattern = Pattern(lua: "task", head: "t:", parameter: "id", tail: "")
    package static let prerequisitesPattern = Pattern(lua: "deps", head: "t:", parameter: "id", tail: ":deps")
    package static let dependentsPattern = Pattern(lua: "next", head: "t:", parameter: "id", tail: ":next")
    package static let logPattern = Pattern(lua: "log", head: "t:", parameter: "id", tail: ":log")
    package static let progressPattern = Pattern(lua: "progress", head: "t:", parameter: "id", tail: ":progress")
    package static let attemptsPattern = Pattern(lua: "attempts", head: "t:", parameter: "id", tail: ":attempts")
    package static let readyPattern = Pattern(lua: "ready", head: "q:", parameter: "queue", tail: "")
    package static let recoveredPattern = Pattern(lua: "recovered", head: "q:", parameter: "queue", tail: ":recovered")
    package static let quarantinePattern = Pattern(lua: "quarantine", head: "q:", parameter: "queue", tail: ":quarantine")
    package static let priorityLanePattern = Pattern(lua: "ready_at", head: "q:", parameter: "queue", tail: ":p:", second: "priority")
    package static let levelsPattern = Pattern(lua: "levels", head: "q:", parameter: "queue", tail: ":levels")
    package static let fairRingPattern = Pattern(lua: "ring", head: "q:", parameter: "queue", tail: ":ring:", second: "priority")
    package static let fairLanePattern = Pattern(lua: "fair_lane", head: "q:", parameter: "queue", tail: ":f:", second: "lane")
    package static let wakePattern = Pattern(lua: "wake", head: "wake:", parameter: "queue", tail: "")
    package static let endedPattern = Pattern(lua: "ended", head: "s:", parameter: "state", tail: "")
    package static let workflowPattern = Pattern(lua: "workflow", head: "wf:", parameter: "wf", tail: "")
    package static let workflowTasksPattern = Pattern(lua: "workflow_tasks", head: "wf:", parameter: "wf", tail: ":tasks")
    package static let idempotencyPattern = Pattern(lua: "idempotency", head: "idem:", parameter: "key", tail: "")
    package static let controlPattern = Pattern(lua: "control", head: "ctl:", parameter: "worker", tail: "")
    package static let workerPattern = Pattern(lua: "worker", head: "worker:", parameter: "id", tail: "")
    package static let delayedPattern = Pattern(lua: "delayed", head: "delayed", parameter: nil, tail: "")
    package static let leasesPattern = Pattern(lua: "leases", head: "leases", parameter: nil, tail: "")
    package static let waitingPattern = Pattern(lua: "waiting", head: "waiting", parameter: nil, tail: "")
    package static let eventsPattern = Pattern(lua: "events", head: "events", parameter: nil, tail: "")
    package static let tokenPattern = Pattern(lua: "token", head: "token", parameter: nil, tail: "")
    package static let pausedPattern = Pattern(lua: "paused", head: "paused", parameter: nil, tail: "")
    package static let queuesPattern = Pattern(lua: "queues", head: "queues", parameter: nil, tail: "")
    package static let statsPattern = Pattern(lua: "stats", head: "stats", parameter: nil, tail: "")
    package static let throughputPattern = Pattern(lua: "throughput", head: "throughput:", parameter: "hour", tail: "")
    package static let maintenancePattern = Pattern(lua: "maintenance", head: "maintenance", parameter: nil, tail: "")
    package static let workersPattern = Pattern(lua: "workers", head: "workers", parameter: nil, tail: "")
    package static let drainerPattern = Pattern(lua: "drainer", head: "drainer", parameter: nil, tail: "")
    package static let settlePattern = Pattern(lua: "settle", head: "settle", parameter: nil, tail: "")
    package static let settleEdgesPattern = Pattern(lua: "settle_edges", head: "t:", parameter: "id", tail: ":settle")
    package static let workflowCancelPattern = Pattern(lua: "workflow_cancel", head: "wf:", parameter: "wf", tail: ":cancel")
    package static let retryFrontierPattern = Pattern(lua: "retry_frontier", head: "t:", parameter: "id", tail: ":retry")
    package static let retryHeldPattern = Pattern(lua: "retry_held", head: "t:", parameter: "id", tail: ":held")
    package static let continuationsPattern = Pattern(lua: "continuations", head: "continuations", parameter: nil, tail: "")
    package static let runsPattern = Pattern(lua: "runs", head: "runs", parameter: nil, tail: "")
    package static let definitionRunsPattern = Pattern(lua: "definition_runs", head: "def:", parameter: "name", tail: ":runs")
    package static let queueRunsPattern = Pattern(lua: "queue_runs", head: "q:", parameter: "queue", tail: ":runs")
    package static let runParkedPattern = Pattern(lua: "run_parked", head: "wf:", parameter: "run", tail: ":parked")
    package static let deadlinesPattern = Pattern(lua: "deadlines", head: "deadlines", parameter: nil, tail: "")
    package static let buildingPattern = Pattern(lua: "building", head: "building", parameter: nil, tail: "")
    package static let expiringPattern = Pattern(lua: "expiring", head: "expiring", parameter: nil, tail: "")
    package static let signalTimeoutsPattern = Pattern(lua: "signal_timeouts", head: "signal_timeouts", parameter: nil, tail: "")
    package static let cachePattern = Pattern(lua: "cache", head: "cache:", parameter: "digest", tail: "")
    package static let rerunPattern = Pattern(lua: "rerun", head: "wf:", parameter: "run", tail: ":rerun")
    package static let rerunTasksPattern = Pattern(lua: "rerun_tasks", head: "wf:", parameter: "run", tail: ":rerun_tasks")
    package static let rerunTodoPattern = Pattern(lua: "rerun_todo", head: "wf:", parameter: "run", tail: ":rerun_todo")
    package static let schedulePattern = Pattern(lua: "schedule", head: "sched:", parameter: "name", tail: "")
    package static let schedulesPattern = Pattern(lua: "schedules", head: "schedules", parameter: nil, tail: "")
    package static let limitCountsPattern = Pattern(lua: "limit_counts", head: "limit_counts", parameter: nil, tail: "")
    package static let limitParkedPattern = Pattern(lua: "limit_parked", head: "limit:", parameter: "key", tail: ":parked")
    package static let limitParkedKeysPattern = Pattern(lua: "limit_parked_keys", head: "limit_parked_keys", parameter: nil, tail: "")
    // Legacy (before 2026-12-07): a concurrency key's count as a hash of its own, and the set
    // listing them. Nothing writes them any more; `jobq doctor --repair` migrates and deletes them.
    package static let legacyLimitPattern = Pattern(lua: "legacy_limit", head: "limit:", parameter: "key", tail: "")
    package static let legacyLimitsPattern = Pattern(lua: "legacy_limits", head: "limits", parameter: nil, tail: "")
    package static let uniquePattern = Pattern(lua: "unique", head: "unique:", parameter: "key", tail: "")
    package static let debouncePattern = Pattern(lua: "debounce", head: "debounce:", parameter: "key", tail: "")
    package static let throttlePattern = Pattern(lua: "throttle", head: "throttle:", parameter: "key", tail: "")
    package static let ratePattern = Pattern(lua: "rate", head: "rate:", parameter: "key", tail: "")
    package static let rateStartsPattern = Pattern(lua: "rate_starts", head: "rate:", parameter: "key", tail: ":starts")
    package static let rateParkedPattern = Pattern(lua: "rate_parked", head: "rate:", parameter: "key", tail: ":parked")
    package static let ratesPattern = Pattern(lua: "rates", head: "rates", parameter: nil, tail: "")
    package static let ratePausesPattern = Pattern(lua: "rate_pauses", head: "rate_pauses", parameter: nil, tail: "")
    package static let rateLogsPattern = Pattern(lua: "rate_logs", head: "rate_logs", parameter: nil, tail: "")

    /// Every key shape, in the order docs/keyspace.md lists them.
    package static let layout: [Pattern] = [
        taskPattern, prerequisitesPattern, dependentsPattern, logPattern, progressPattern, attemptsPattern,
        readyPattern, priorityLanePattern, levelsPattern, fairRingPattern, fairLanePattern, recoveredPattern, quarantinePattern, wakePattern, waitingPattern, delayedPattern, expiringPattern, signalTimeoutsPattern, leasesPattern, endedPattern,
        workflowPattern, workflowTasksPattern, runsPattern, definitionRunsPattern, queueRunsPattern, runParkedPattern, deadlinesPattern, buildingPattern, idempotencyPattern, eventsPattern, tokenPattern,
        pausedPattern, queuesPattern, statsPattern, throughputPattern, maintenancePattern, controlPattern,
        workersPattern, workerPattern, drainerPattern, settlePattern, settleEdgesPattern, workflowCancelPattern,
        retryFrontierPattern, retryHeldPattern, continuationsPattern,
        cachePattern, rerunPattern, rerunTasksPattern, rerunTodoPattern,
        schedulePattern, schedulesPattern,
        limitCountsPattern, limitParkedPattern, limitParkedKeysPattern, legacyLimitPattern, legacyLimitsPattern,
        uniquePattern, debouncePattern, throttlePattern,
        ratePattern, rateStartsPattern, rateParkedPattern, ratesPattern, rateLogsPattern, ratePausesPattern,
    ]

    /// The Lua key table: `function K.deps(id) return P .. 't:' .. id .. ':deps' end`, and the
    /// fixed keys (`K.delayed = P .. 'delayed'`) set by `K.bind()`, which every call runs once its
    /// prefix `P` is known (the scripts are a Functions library loaded once: prelude.lua BEGIN).
    static var luaSource: String {
        var lines = ["local K = {}"]
        var fixed: [String] = []
        for pattern in layout {
            if let parameter = pattern.parameter, let second = pattern.second {
                lines.append("function K.\(pattern.lua)(\(parameter), \(second)) return P .. '\(pattern.head)' .. \(parameter) .. '\(pattern.tail)' .. \(second) end")
            } else if let parameter = pattern.parameter {
                let tail = pattern.tail.isEmpty ? "" : " .. '\(pattern.tail)'"
                lines.append("function K.\(pattern.lua)(\(parameter)) return P .. '\(pattern.head)' .. \(parameter)\(tail) end")
            } else {
                fixed.append("  K.\(pattern.lua) = P .. '\(pattern.head)'")
            }
        }
        lines.append("function K.bind()")
        lines += fixed
        lines.append("end")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Hash: the task record, the source of truth.
    public func task(_ id: String) -> String { Self.taskPattern.key(prefix, id) }
    /// Hash: prerequisite id → edge policy.
    public func prerequisites(_ id: String) -> String { Self.prerequisitesPattern.key(prefix, id) }
    /// Hash: dependent id → edge policy.
    public func dependents(_ id: String) -> String { Self.dependentsPattern.key(prefix, id) }
    /// List: the task's log lines (capped).
    public func log(_ id: String) -> String { Self.logPattern.key(prefix, id) }
    /// Hash: progress groups of a running task.
    public func progress(_ id: String) -> String { Self.progressPattern.key(prefix, id) }
    /// List: the task's attempt history, one tab-separated entry per ended attempt, oldest
    /// first; the first entry and the last ``TaskAttempt/keptAfterFirst`` are kept.
    public func attempts(_ id: String) -> String { Self.attemptsPattern.key(prefix, id) }
    /// List: ids ready to run on `queue` (LPUSH in, RPOP out: FIFO).
    public func ready(_ queue: String) -> String { Self.readyPattern.key(prefix, queue) }
    /// List: ids ready to run on `queue` at `priority` (``TaskSpec/priority``): the default
    /// priority 0 is the plain ``ready(_:)`` list, so a queue that never uses priorities has
    /// exactly the keys it had before them.
    public func ready(_ queue: String, priority: Int) -> String {
        priority == 0 ? ready(queue) : Self.priorityLanePattern.key(prefix, queue, String(priority))
    }
    /// Sorted set: the priorities other than 0 that may have ready tasks on `queue` (member and
    /// score: the priority); claims take the lanes highest first, and drop a level they empty.
    public func levels(_ queue: String) -> String { Self.levelsPattern.key(prefix, queue) }
    /// List: the fair keys (``TaskSpec/fairKey``) with ready tasks on `queue` at `priority`, in
    /// turn order, plus the member `""` for the lane's plain list; registered in
    /// ``levels(_:)`` as the member `f<priority>` while it exists.
    public func fairRing(_ queue: String, priority: Int) -> String { Self.fairRingPattern.key(prefix, queue, String(priority)) }
    /// List: the ready tasks of one fair key on `queue` at `priority` (LPUSH in, RPOP out).
    public func fairLane(_ queue: String, priority: Int, key: String) -> String {
        Self.fairLanePattern.key(prefix, queue, "\(priority):\(key)")
    }
    /// List: ids taken back from a worker that died or stopped (reaped, handed back), claimed
    /// before `ready` ("recovered first").
    public func recovered(_ queue: String) -> String { Self.recoveredPattern.key(prefix, queue) }
    /// List: suspects of a worker crash that must run alone (an idle worker claims one and
    /// claims nothing else until it ends), claimed before `recovered` by idle workers.
    public func quarantine(_ queue: String) -> String { Self.quarantinePattern.key(prefix, queue) }
    /// Every list a queue's dispatchable ids wait in, in the order claims take them, given the
    /// priorities in use (the members of ``levels(_:)``; `[]` reads the default lane only).
    public func lanes(_ queue: String, priorities: [Int] = []) -> [String] {
        let levels = Set(priorities + [0]).sorted(by: >)
        return [quarantine(queue), recovered(queue)] + levels.map { ready(queue, priority: $0) }
    }
    /// List: wake-up tokens that blocked claimers wait on (BLPOP), capped.
    public func wake(_ queue: String) -> String { Self.wakePattern.key(prefix, queue) }
    /// Sorted set: PENDING tasks waiting for a time (delay or retry backoff), by due time.
    public var delayed: String { Self.delayedPattern.key(prefix) }
    /// Sorted set: PENDING tasks that never started and have an expiry, by it (ms): claim leaves
    /// them out, the maintenance pass ends those due (CANCELLED, reason `expired`).
    public var expiring: String { Self.expiringPattern.key(prefix) }
    /// Sorted set: PENDING tasks waiting for a signal with a timeout, by when it times out (ms).
    public var signalTimeouts: String { Self.signalTimeoutsPattern.key(prefix) }
    /// Sorted set: RUNNING tasks by lease deadline (the index of running tasks).
    public var leases: String { Self.leasesPattern.key(prefix) }
    /// Sorted set: PENDING tasks with unresolved prerequisites, by creation time.
    public var waiting: String { Self.waitingPattern.key(prefix) }
    /// Sorted set per terminal state (DONE, FAILED, CANCELLED): ids by the time their record
    /// expires; the maintenance pass deletes them then.
    public func ended(_ state: TaskState) -> String { Self.endedPattern.key(prefix, state.rawValue) }
    /// Hash: the run record (definition, state, per-state counters, times, options); for a
    /// label-only workflow of standalone tasks, just `created` and `total`.
    public func workflow(_ id: String) -> String { Self.workflowPattern.key(prefix, id) }
    /// Sorted set: a run's (or workflow's) task ids in submission order.
    public func workflowTasks(_ id: String) -> String { Self.workflowTasksPattern.key(prefix, id) }
    /// Sorted set: every run id by creation time (ms), for `jobq runs` newest first.
    public var runs: String { Self.runsPattern.key(prefix) }
    /// Sorted set: the runs of one definition (the file's `workflow:` name) by creation time.
    public func definitionRuns(_ name: String) -> String { Self.definitionRunsPattern.key(prefix, name) }
    /// Sorted set: the runs one of whose tasks was submitted to `queue`, by creation time (ms):
    /// `jobq runs --queue` and the dashboard's runs filter page it as they page ``runs``.
    public func queueRuns(_ queue: String) -> String { Self.queueRunsPattern.key(prefix, queue) }
    /// List: ready tasks of a run held back because its window was full (oldest first), queued
    /// again one per slot as the run's running tasks end.
    public func runParked(_ run: String) -> String { Self.runParkedPattern.key(prefix, run) }
    /// Sorted set: runs with a deadline, by it (ms); the maintenance pass stops those due.
    public var deadlines: String { Self.deadlinesPattern.key(prefix) }
    /// Runs still being submitted in several calls, scored by their latest chunk's time.
    public var building: String { Self.buildingPattern.key(prefix) }
    /// Hash: fingerprint and ids of an idempotent submission.
    public func idempotency(_ key: String) -> String { Self.idempotencyPattern.key(prefix, key) }
    /// Stream: the audit log of every transition (capped).
    public var events: String { Self.eventsPattern.key(prefix) }
    /// String: fencing token counter.
    public var token: String { Self.tokenPattern.key(prefix) }
    /// Set: paused queue names.
    public var paused: String { Self.pausedPattern.key(prefix) }
    /// Set: every queue name ever used.
    public var queues: String { Self.queuesPattern.key(prefix) }
    /// Hash: counters (submitted, claimed, done, failed, cancelled, retried, reopened).
    public var stats: String { Self.statsPattern.key(prefix) }
    /// Hash, one per hour (`hour` = ms since the epoch / 3,600,000): fields `<minute>:done` and
    /// `<minute>:failed` (`minute` = ms / 60,000) count the tasks that ended so in that minute;
    /// expires just over 72 h after its hour began. The dashboard's charts read 73 of them.
    package func throughput(hour: Int64) -> String { Self.throughputPattern.key(prefix, String(hour)) }
    /// String (SET NX PX): which worker runs the maintenance pass right now.
    public var maintenanceLock: String { Self.maintenancePattern.key(prefix) }
    /// Sorted set: worker ids by last heartbeat time.
    public var workers: String { Self.workersPattern.key(prefix) }
    /// List: ids of tasks this worker runs whose cancellation was just requested (BLPOP'ed by
    /// the worker, so cancellation reaches a handler at once rather than at the next heartbeat).
    public func control(_ workerID: String) -> String { Self.controlPattern.key(prefix, workerID) }
    /// String (SET PX): the busy worker that stopped claiming until it is idle, to run a
    /// quarantined task alone; its heartbeats keep it, so it expires one lease after that
    /// worker dies.
    public var drainer: String { Self.drainerPattern.key(prefix) }
    /// List: ended tasks whose dependents are not all settled yet (`+id` DONE, `-id` FAILED or
    /// CANCELLED), continued by the next script calls: bounded cascades.
    public var settle: String { Self.settlePattern.key(prefix) }
    /// Hash: the dependents (id → policy) of a task on the settle list not settled yet, moved
    /// aside from ``dependents(_:)`` and back as they are settled.
    public func settleEdges(_ id: String) -> String { Self.settleEdgesPattern.key(prefix, id) }
    /// Hash: a workflow cancellation in progress (`started`, `cursor`, `cancelled`, `requested`,
    /// `message`); while it exists, claims drop the workflow's tasks.
    public func workflowCancel(_ id: String) -> String { Self.workflowCancelPattern.key(prefix, id) }
    /// List: a retry in progress rooted at `id`: the re-opened tasks whose dependents are still
    /// to be visited (`phase cursor id`).
    public func retryFrontier(_ id: String) -> String { Self.retryFrontierPattern.key(prefix, id) }
    /// Set: `always` dependents of `id` counted on again ahead of `id`'s re-opening by a retry.
    public func retryHeld(_ id: String) -> String { Self.retryHeldPattern.key(prefix, id) }
    /// Sorted set: operations in progress (`cancel:<wf>`, `retry:<id>`) by the time their last
    /// call ran; the maintenance pass continues those whose client went quiet.
    public var continuations: String { Self.continuationsPattern.key(prefix) }
    /// String (SET PX, the producing task's retention): the task whose DONE result a
    /// `cache_key` expanding to `digest` names (incremental runs).
    public func cache(_ digest: String) -> String { Self.cachePattern.key(prefix, digest) }
    /// Hash: a `rerun --outdated` of the run in progress (`phase`, `cursor`).
    public func rerun(_ run: String) -> String { Self.rerunPattern.key(prefix, run) }
    /// Set: the tasks a `rerun --outdated` of the run re-opens (the outdated ones and their
    /// dependents).
    public func rerunTasks(_ run: String) -> String { Self.rerunTasksPattern.key(prefix, run) }
    /// List: the tasks of a `rerun --outdated` whose dependents are still to be visited (`cursor id`).
    public func rerunTodo(_ run: String) -> String { Self.rerunTodoPattern.key(prefix, run) }
    /// Hash: a schedule (its timing, the submission it fires, policies, next fire time, last
    /// run); docs/keyspace.md lists the fields.
    public func schedule(_ name: String) -> String { Self.schedulePattern.key(prefix, name) }
    /// Sorted set: the names of schedules that are not paused, by next fire time (ms); the
    /// maintenance pass fires the due ones.
    public var schedules: String { Self.schedulesPattern.key(prefix) }
    /// Hash: one field per concurrency key with tasks running or parked, `RUNNING LIMIT` (its
    /// tasks RUNNING now, the limit its last claimed task carried); the field goes when nothing
    /// of the key runs or is parked. One hash, so a call reads and writes all its keys' counts
    /// with one command each (docs/performance.md).
    public var limitCounts: String { Self.limitCountsPattern.key(prefix) }
    /// List: tasks of a concurrency key held back at its limit, oldest first (claim parks, a
    /// script that frees a slot wakes them).
    public func limitParked(_ key: String) -> String { Self.limitParkedPattern.key(prefix, key) }
    /// Set: the concurrency keys whose `limit:<key>:parked` list holds tasks, so a call that
    /// frees slots asks for all its keys at once (SMISMEMBER) instead of one EXISTS per key.
    public var limitParkedKeys: String { Self.limitParkedKeysPattern.key(prefix) }
    /// Legacy hash (versions before 2026-12-07): a concurrency key's `running` count and `limit`.
    /// Read only by `jobq doctor`, which migrates and deletes it (``legacyLimits``).
    package func legacyLimit(_ key: String) -> String { Self.legacyLimitPattern.key(prefix, key) }
    /// Legacy set (versions before 2026-12-07): the concurrency keys that had a `limit:<key>`
    /// hash. Its presence means an upgrade whose counts `jobq doctor --repair` has not migrated.
    package var legacyLimits: String { Self.legacyLimitsPattern.key(prefix) }
    /// String: the id of the task holding a unique key (``Uniqueness``, until started or until
    /// finished, PX for `for D`); released by the transition that ends its scope.
    public func unique(_ key: String) -> String { Self.uniquePattern.key(prefix, key) }
    /// String: the id of the task a debounce key's next submit replaces while it waits out its delay.
    public func debounce(_ key: String) -> String { Self.debouncePattern.key(prefix, key) }
    /// String: the id of the task that opened a throttle key's interval; PX the interval.
    public func throttle(_ key: String) -> String { Self.throttlePattern.key(prefix, key) }
    /// Hash: a rate key's `limit` and `interval` (ms) as its last parked task carried, and
    /// `paused` (ms: a handler's backpressure holds the key until then); deleted when nothing
    /// of the key is parked and no pause is in force.
    public func rate(_ key: String) -> String { Self.ratePattern.key(prefix, key) }
    /// Sorted set: a rate key's recent starts (member: the claim's fencing token, score: when,
    /// ms), at most `limit` entries (out-of-window ones trimmed when the log fills); deleted by
    /// the maintenance pass a minute after the interval after the last start (``rateLogs``).
    public func rateStarts(_ key: String) -> String { Self.rateStartsPattern.key(prefix, key) }
    /// List: tasks of a rate key held back over its rate (or by a pause), oldest first.
    public func rateParked(_ key: String) -> String { Self.rateParkedPattern.key(prefix, key) }
    /// Sorted set: the rate keys with parked tasks or a pause, by when to wake them (ms); the
    /// maintenance pass (promote.lua) wakes the due ones.
    public var rates: String { Self.ratesPattern.key(prefix) }
    /// Sorted set: the rate keys a handler's backpressure paused, by when the pause ends (ms).
    /// A claim reads it once per call (is any pause in force?) instead of each key's `paused`.
    public var ratePauses: String { Self.ratePausesPattern.key(prefix) }
    /// Sorted set: the rate keys that have a starts log, by when the log may go (ms: a minute
    /// after the interval after its last start); the maintenance pass deletes the due logs in
    /// bounded sweeps, instead of a PEXPIRE per key per claim.
    public var rateLogs: String { Self.rateLogsPattern.key(prefix) }
    /// Hash: one worker's self-description (host, pid, queues, concurrency, started).
    public func worker(_ id: String) -> String { Self.workerPattern.key(prefix, id) }
}
