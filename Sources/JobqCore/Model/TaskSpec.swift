import Foundation

/// Everything a producer says about one task before it exists.
public struct TaskSpec: Sendable, Hashable {
    /// The id; generated (time-ordered) when `nil`.
    public var id: String?
    /// The name a worker's handler is registered under.
    public var handler: String
    public var queue: String
    /// JSON bytes handed to the handler.
    public var payload: [UInt8]
    public var prerequisites: [Prerequisite]
    /// Total runs allowed, the first included.
    public var maxAttempts: Int
    public var backoff: RetryBackoff
    /// How long one attempt may run before the worker stops it and fails the attempt.
    public var timeout: Duration
    /// Do not run before this much time has passed since submission.
    public var delay: Duration
    /// How long the finished task and its result are kept.
    public var resultTTL: Duration
    /// A human label for status tables and graphs.
    public var title: String
    /// `skip_if` / `run_if` over the prerequisites' results, decided when the task becomes ready.
    public var precondition: Precondition?
    /// Incremental runs: a DONE task whose key expands the same (within its retention) gives this
    /// task its result at once, without running it (``CacheKey``).
    public var cacheKey: CacheKey?
    /// When the task must have started by (Celery's `expires`, RQ's `ttl`): still PENDING then,
    /// it ends CANCELLED with reason `expired` and never runs; its dependents settle as after a
    /// cancel. A task that started once never expires (a retry after a failure still runs).
    public var expires: TaskExpiry?
    /// How many times a handler may snooze the task ("not yet, try again in D", which refunds the
    /// attempt) before a snooze counts as a failed attempt (reason `snooze_limit`).
    public var maxSnoozes: Int
    /// At most `limit` tasks with this key RUNNING at once, fleet-wide (``ConcurrencyLimit``);
    /// a task held back waits parked, with no worker polling, until a slot frees.
    public var concurrency: ConcurrencyLimit?
    /// At most `count` tasks with this key start in any window of `interval`, fleet-wide
    /// (``RateLimit``); a task over the rate waits parked, with no worker polling.
    public var rate: RateLimit? = nil
    /// A signal the task waits for before it runs (``DeclaredWait``); `nil` for none.
    public var waitFor: DeclaredWait? = nil
    /// At most one task by key (``Uniqueness``): unique until started / until finished / for D,
    /// debounce or throttle; a second submit gets the existing task back. `nil` for none.
    public var uniqueness: Uniqueness? = nil
    /// A service task of its run (asynciojobs' `forever`): it starts as its prerequisites
    /// allow, is not waited for, and is stopped (its handler told, through the cancel path) once
    /// every other task of the run has ended, ending DONE (reason `service_stopped`) unless it
    /// failed on its own; the run's state is decided by its other tasks. Its dependents are
    /// released when it starts, and may only name it with `always` (docs/workflow-files.md).
    public var service: Bool = false
    /// Its priority within its queue, from ``priorities`` (-100...100): higher first, FIFO within
    /// one priority; the default 0 is today's single lane. Strict: a low priority waits while
    /// higher ones are ready (docs/flow-control.md#priorities; weighted queues give a share).
    public var priority: Int
    /// Its fair key, a template like a concurrency key's (`tenant-{payload.tenant}`, expanded at
    /// submit, ``FairKey``); `nil` for none. Among the ready tasks of one queue and priority,
    /// claims take the keys in turns (one task per key, round robin; unkeyed tasks take one
    /// turn together) instead of submission order, so a big backlog of one key does not make
    /// another key's few tasks wait for it (docs/flow-control.md#fairness-across-keys).
    public var fairKey: String? = nil

    public static let defaultQueue = "default"
    public static let defaultMaxAttempts = 3
    public static let defaultTimeout: Duration = .seconds(15 * 60)
    public static let defaultResultTTL: Duration = .seconds(24 * 3600)
    /// Generous: a snooze is cheap, the bound only stops a handler that snoozes forever.
    public static let defaultMaxSnoozes = 100
    /// The priorities a task may have (higher first); the scripts get the bounds as
    /// `PRIORITY_MIN` / `PRIORITY_MAX`.
    public static let priorities: ClosedRange<Int> = -100...100
    public static let defaultPriority = 0
    /// The furthest a task's expiry may be (a year and a day, as delays and run deadlines).
    public static let maxExpiry: Duration = Limits.maxRunDeadline

    public init(
        id: String? = nil,
        handler: String,
        queue: String = TaskSpec.defaultQueue,
        payload: [UInt8] = Array("null".utf8),
        prerequisites: [Prerequisite] = [],
        maxAttempts: Int = TaskSpec.defaultMaxAttempts,
        backoff: RetryBackoff = .default,
        timeout: Duration = TaskSpec.defaultTimeout,
        delay: Duration = .zero,
        resultTTL: Duration = TaskSpec.defaultResultTTL,
        title: String = "",
        precondition: Precondition? = nil,
        cacheKey: CacheKey? = nil,
        expires: TaskExpiry? = nil,
        maxSnoozes: Int = TaskSpec.defaultMaxSnoozes,
        concurrency: ConcurrencyLimit? = nil,
        priority: Int = TaskSpec.defaultPriority
    ) {
        self.id = id
        self.handler = handler
        self.queue = queue
        self.payload = payload
        self.prerequisites = prerequisites
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.timeout = timeout
        self.delay = delay
        self.resultTTL = resultTTL
        self.title = title
        self.precondition = precondition
        self.cacheKey = cacheKey
        self.expires = expires
        self.maxSnoozes = maxSnoozes
        self.concurrency = concurrency
        self.priority = priority
    }

    /// `invalid_option` unless `priority` is in ``priorities``.
    public static func check(priority: Int, subject: String? = nil) throws(JobqError) {
        guard priorities.contains(priority) else {
            throw JobqError(.invalidOption, "priority must be from \(priorities.lowerBound) to \(priorities.upperBound) (higher first); got \(priority)", subject: subject)
        }
    }

    /// Checks everything that can be checked without Redis. Throws the first violation.
    ///
    /// `now` is this machine's clock, for an absolute ``expires`` only (a quick clear error;
    /// submit.lua checks it again on Redis's).
    ///
    /// `mapTemplate`: this spec is a map's template (``MapRequest``): its key templates may name
    /// fields inside the `!item` / `!index` placeholders of its payload, checked per child when
    /// the map expands.
    public func validate(limits: Limits, now: Date = Date(), mapTemplate: Bool = false) throws(JobqError) {
        if let id { try Validation.check(name: id, as: .taskID) }
        try Validation.check(name: handler, as: .handler)
        try Validation.check(name: queue, as: .queue)
        try Validation.check(payload: payload, limits: limits)
        guard prerequisites.count <= limits.maxPrerequisites else {
            throw JobqError(.tooManyPrerequisites, "task has \(prerequisites.count) prerequisites; at most \(limits.maxPrerequisites) allowed", subject: id)
        }
        var seen = Set<String>()
        for prerequisite in prerequisites {
            try Validation.check(taskID: prerequisite.id)
            guard seen.insert(prerequisite.id).inserted else {
                throw JobqError(.duplicatePrerequisite, "prerequisite \(prerequisite.id) is listed twice", subject: id)
            }
        }
        try Validation.check(maxAttempts, in: limits.attempts, "max attempts")
        try Validation.check(maxSnoozes, in: limits.snoozes, "max snoozes")
        try Self.check(priority: priority, subject: id)
        try Validation.check(timeout, in: limits.timeout, "timeout")
        try Validation.check(delay, in: limits.delay, "delay")
        try Validation.check(resultTTL, in: limits.resultTTL, "result TTL")
        if let precondition { try precondition.validate(prerequisites: prerequisites.map(\.id)) }
        if let cacheKey { try cacheKey.validate(prerequisites: prerequisites.map(\.id)) }
        try concurrency?.validate(payload: payload, subject: id, deferringElements: mapTemplate)
        try rate?.validate(payload: payload, queue: queue, subject: id, deferringElements: mapTemplate)
        if let fairKey { _ = try FairKey.expand(fairKey, payload: payload, subject: id, deferringElements: mapTemplate) }
        try waitFor?.validate(subject: id)
        try uniqueness?.validate(spec: self, subject: id)
        try expires?.validate("the task's expiry", maximum: Self.maxExpiry, now: now, subject: id)
        guard title.utf8.count <= 1024, !title.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw JobqError(.invalidOption, "title must be at most 1024 bytes without control characters", subject: id)
        }
    }
}
