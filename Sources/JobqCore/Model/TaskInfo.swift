/// A snapshot of one task record, as `status` shows it.
public struct TaskInfo: Sendable, Hashable {
    public var id: String
    public var handler: String
    public var queue: String
    /// Its priority within the queue (``TaskSpec/priority``; 0 by default).
    public var priority: Int
    /// `nil` when the stored state is not one jobq knows (a corrupt record).
    public var state: TaskState?
    /// Runs charged against `maxAttempts`. A worker death is charged only when the task ran
    /// alone (quarantine); see ``workerDeaths``.
    public var attempts: Int
    public var maxAttempts: Int
    /// Times a worker died (or stopped heartbeating) while running this task, charged or not.
    public var workerDeaths: Int
    /// Crash-suspect level: 0 never beside a worker death; 1 recovered once (runs first);
    /// 2 or more quarantined (runs alone on an idle worker).
    public var suspectLevel: Int
    public var payload: [UInt8]
    /// Result bytes (JSON) of a DONE task.
    public var result: [UInt8]?
    /// The last error message.
    public var error: String?
    /// A short stable word for the last transition's cause: `dependency_failed`, `lease_expired`,
    /// `timeout`, `cancelled`, `skipped`, …
    public var reason: String?
    /// The prerequisite whose failure cancelled this task.
    public var cause: String?
    public var workflow: String?
    public var title: String
    public var prerequisites: [Prerequisite]
    /// Prerequisites not yet resolved.
    public var unresolvedPrerequisites: Int
    /// The task ended SKIPPED (kept for callers of the DONE-with-a-flag era).
    public var skipped: Bool
    public var cancelRequested: Bool
    public var worker: String?
    /// Times are Redis milliseconds since the epoch.
    public var created: Int64?
    public var started: Int64?
    public var finished: Int64?
    public var runAfter: Int64?
    public var leaseDeadline: Int64?
    public var timeout: Duration
    public var resultTTL: Duration
    public var backoff: RetryBackoff?
    /// A sub-workflow task: the child run it started (while PENDING, it waits for that run).
    public var childRun: String? = nil
    /// A mapped task (`jobq.map`) that has expanded: how many children its child run has.
    public var mappedCount: Int? = nil
    /// The child run the task spawned (`HandlerContext.spawn`) and has not been woken from yet.
    public var spawnedRun: String? = nil
    /// It waits (PENDING) for its spawned children, to be invoked again (not to end with them).
    /// An ended task waits for nothing, whatever its record's `child_wait` still says.
    public var waitsForChildren = false
    /// The `cache_key` template, as submitted (``CacheKey``).
    public var cacheKey: String?
    /// A DONE task that took its result from the cache: the id of the task that produced it.
    public var cached: String?
    /// A DONE task one of whose prerequisites ended again after it did (re-run, retried): its
    /// result may be stale; `jobq rerun RUN --outdated` re-runs it and what depends on it.
    public var outdated: Bool
    /// When a task that has not started ends CANCELLED with reason `expired` (Redis ms); `nil`
    /// without an expiry and once the task has started (a started task never expires).
    public var expiresAt: Int64? = nil
    /// A service task of its run (``TaskSpec/service``): not waited for, stopped when the rest
    /// of the run has ended.
    public var service: Bool = false
    /// Times a handler snoozed the task since it was submitted (or last `jobq retry`ed).
    public var snoozes: Int = 0
    /// The snooze budget (``TaskSpec/maxSnoozes``).
    public var maxSnoozes: Int = TaskSpec.defaultMaxSnoozes
    /// Size of the task's last checkpoint in bytes; `nil` when it has none. (The value itself
    /// is the handler's business: status shows only its size and age.)
    public var checkpointBytes: Int? = nil
    /// When the last checkpoint was saved (Redis ms).
    public var checkpointAt: Int64? = nil
    /// The task's concurrency key, expanded at submit (``ConcurrencyLimit``); `nil` without one.
    public var concurrencyKey: String? = nil
    /// The task's fair key, expanded at submit (``TaskSpec/fairKey``); `nil` without one.
    public var fairKey: String? = nil
    /// How many tasks of ``concurrencyKey`` may run at once; `nil` without a key.
    public var concurrencyLimit: Int? = nil
    /// The task's unique key, expanded at submit (``Uniqueness``); `nil` without one.
    public var uniqueKey: String? = nil
    /// Its mode in words: `until_started`, `until_finished`, `for 10m`, `debounce 30s`, `throttle 1m`.
    public var uniqueMode: String? = nil
    /// The task's rate limit, its key expanded at submit (``RateLimit``); `nil` without one.
    public var rate: RateLimit? = nil

    /// While PENDING and waiting (in no queue) for a signal or an answer: its name.
    public var waitingFor: String? = nil
    /// When that wait times out (Redis ms); `nil` for never.
    public var waitUntil: Int64? = nil
    /// While waiting for an answer: the question and its choices.
    public var question: SignalQuestion? = nil
    /// The names of the signals (and answers, `ask-…`) the task keeps, in arrival order.
    public var keptSignals: [String] = []

    /// `jobq answer ID CHOICE`, when the task asks a question now.
    public var answerHint: String? {
        question.map { "jobq answer \(id) \($0.choices.first ?? "CHOICE")" }
    }
}

extension TaskInfo {
    /// Decodes the flat HGETALL reply of a task hash; `nil` when the hash does not exist.
    init?(id: String, fields: [String: [UInt8]], prerequisites: [Prerequisite]) {
        guard let specBytes = fields["spec"] else { return nil }
        // A garbled spec (a corrupt record) still shows as a record, with empty parts.
        let spec = PackedSpec(specBytes)
        func string(_ name: String) -> String? {
            fields[name].map { String(decoding: $0, as: UTF8.self) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        func number(_ name: String) -> Int64? { string(name).flatMap { Int64($0) ?? Double($0).map { Int64($0) } } }
        self.id = id
        handler = spec?.handler ?? ""
        queue = spec?.queue ?? ""
        priority = spec?.priority ?? TaskSpec.defaultPriority
        fairKey = spec?.fairKey
        state = string("state").flatMap(TaskState.init(rawValue:))
        attempts = Int(number("attempts") ?? 0)
        maxAttempts = spec?.maxAttempts ?? 0
        workerDeaths = Int(number("deaths") ?? 0)
        suspectLevel = Int(number("suspect") ?? 0)
        payload = fields["payload"] ?? []
        result = fields["result"]
        error = string("error")
        reason = string("reason")
        cause = string("cause")
        workflow = spec?.workflow
        title = spec?.title ?? ""
        self.prerequisites = prerequisites
        unresolvedPrerequisites = Int(number("deps_left") ?? 0)
        skipped = state == .skipped
        cancelRequested = string("cancel_requested") != nil
        childRun = string("child")
        mappedCount = fields["mapped"].flatMap(MappedResult.parse)?.count
        spawnedRun = string("spawned")
        waitsForChildren = string("child_wait") != nil && state == .pending
        worker = string("worker")
        created = number("created")
        started = number("started")
        finished = number("finished")
        runAfter = number("run_after").flatMap { $0 > 0 ? $0 : nil }
        leaseDeadline = number("lease").flatMap { $0 > 0 ? $0 : nil }
        timeout = .milliseconds(spec?.timeoutMilliseconds ?? 0)
        resultTTL = .milliseconds(spec?.ttlMilliseconds ?? 0)
        backoff = spec.flatMap { RetryBackoff(json: $0.backoff) }
        cacheKey = string("ckey")
        cached = state == .done ? string("cached") : nil
        outdated = state == .done && string("outdated") == "1"
        expiresAt = number("expires_at")
        service = string("service") == "1"
        snoozes = Int(number("snoozes") ?? 0)
        maxSnoozes = number("max_snoozes").map { Int($0) } ?? TaskSpec.defaultMaxSnoozes
        checkpointBytes = fields["checkpoint"]?.count
        checkpointAt = number("checkpoint_at")
        // `climit` is "N KEY" (submit.lua)
        if let climit = string("climit"), let space = climit.firstIndex(of: " "), let limit = Int(climit[..<space]) {
            concurrencyLimit = limit
            concurrencyKey = String(climit[climit.index(after: space)...])
        }
        if let unique = string("unique").flatMap(Uniqueness.parseRecord) {
            uniqueKey = unique.key
            uniqueMode = unique.mode
        }
        // `rlimit` is "N INTERVAL_MS KEY" (submit.lua)
        if let rlimit = string("rlimit") {
            let parts = rlimit.split(separator: " ", maxSplits: 2)
            if parts.count == 3, let count = Int(parts[0]), let interval = Int64(parts[1]) {
                rate = RateLimit(count, per: .milliseconds(interval), key: String(parts[2]))
            }
        }
        if state == .pending, let wait = string("wait") {
            waitingFor = wait
            waitUntil = number("wait_until").flatMap { $0 > 0 ? $0 : nil }
            question = string("asking").flatMap(SignalQuestion.init(stored:))
        }
        keptSignals = string("signals").map { $0.split(separator: " ").map(String.init) } ?? []
    }
}
