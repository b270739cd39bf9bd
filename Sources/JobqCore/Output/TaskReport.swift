/// Everything known about one task, as `jobq status ID --json` and the dashboard's
/// `/api/v1/tasks/ID` both answer it: one type, one loader (`JobqClient.taskReport`), one JSON
/// (``json``), so the two never drift apart.
package struct TaskReport: Sendable {
    /// Dependents listed at most (`dependents_total` says how many there are).
    package static let dependentLimit = 200
    /// Log lines at the end of the task's log kept in `log_tail`.
    package static let logLines = 200

    package var info: TaskInfo
    package var prerequisiteStates: [String: TaskState?]
    package var progress: [ProgressEntry]
    package var history: AttemptHistory
    package var limit: LimitUsage?
    package var rate: RateUsage?
    package var dependents: [(Prerequisite, TaskState?)]
    package var dependentTotal: Int
    package var logTail: [String]
    /// The child run it waits for or spawned (a sub-workflow, a map, spawned children): how far
    /// its children are.
    package var children: RunInfo?
    /// Redis time of the read (ms).
    package var now: Int64

    package init(info: TaskInfo, prerequisiteStates: [String: TaskState?], progress: [ProgressEntry], history: AttemptHistory, limit: LimitUsage?,
                 rate: RateUsage?, dependents: [(Prerequisite, TaskState?)], dependentTotal: Int, logTail: [String], children: RunInfo? = nil, now: Int64) {
        self.info = info
        self.prerequisiteStates = prerequisiteStates
        self.progress = progress
        self.history = history
        self.limit = limit
        self.rate = rate
        self.dependents = dependents
        self.dependentTotal = dependentTotal
        self.logTail = logTail
        self.children = children
        self.now = now
    }

    /// What its children are doing, as `jobq status ID` and the dashboard's task page say it: a
    /// map's progress ("mapped: k of N children done"), or the run it waits for or spawned
    /// ("waiting for N children of run X (k done)"); `nil` without a child run.
    package var childrenText: String? {
        guard let children else { return nil }
        if let count = info.mappedCount { return MapProgress.text(count: count, run: children, id: children.id) }
        return ChildrenText.waiting(children)
    }

    /// ``TaskJSON/detail(_:prerequisiteStates:progress:history:limit:rate:rateLimited:children:)`` plus
    /// `dependents` (id, policy, state; at most ``dependentLimit``), `dependents_total` and
    /// `log_tail` (the last ``logLines`` lines), and for a waiting map `mapped` (``MapProgress``).
    package var json: JSONValue {
        let detail = TaskJSON.detail(info, prerequisiteStates: prerequisiteStates, progress: progress, history: history, limit: limit,
                                     rate: rate, rateLimited: info.isRateLimited(usage: rate, now: now), children: children)
        guard case .object(var fields) = detail else { return detail }
        if let count = info.mappedCount, let child = info.childRun { fields.append(("mapped", MapProgress.json(count: count, run: children, id: child))) }
        fields.append(("dependents", .array(dependents.map { dependent, state in
            .object([("id", .string(dependent.id)), ("policy", .string(dependent.policy.rawValue)), ("state", .optional(state?.rawValue))])
        })))
        fields.append(("dependents_total", .int(dependentTotal)))
        fields.append(("log_tail", .array(logTail.map { .string($0) })))
        return .object(fields)
    }
}

extension TaskInfo {
    /// Whether its rate key holds it back now (`usage` is its key's): PENDING, and the key is
    /// paused by a handler, has no start left in its window, or has tasks parked on it.
    package func isRateLimited(usage: RateUsage?, now: Int64) -> Bool {
        guard state == .pending, rate?.key != nil, let usage else { return false }
        if let paused = usage.pausedUntil, paused > now { return true }
        return usage.startsLeft == 0 || usage.parked > 0
    }
}
