import Foundation

/// What a schedule submits at each tick: the tasks of one run and its options, stored in the
/// schedule record as JSON (`sub`), so that any process — a worker's maintenance pass that never
/// saw the workflow file — can submit it as it was added.
public struct ScheduledSubmission: Sendable, Hashable {
    /// The tasks; their ids are keys within the run (`RUN/KEY`).
    public var tasks: [TaskSpec]
    /// The run's options; its `id` is ignored (each tick's run id is derived from the tick) and
    /// an absolute deadline is refused (it would have passed by the second tick).
    public var run: RunOptions

    public init(tasks: [TaskSpec], run: RunOptions) {
        self.tasks = tasks
        self.run = run
    }

    /// One task of a handler: a run of one task whose key is `task`.
    public init(handler: String, payload: [UInt8] = Array("null".utf8), queue: String = TaskSpec.defaultQueue, definition: String) {
        self.init(tasks: [TaskSpec(id: "task", handler: handler, queue: queue, payload: payload)], run: RunOptions(definition: definition))
    }

    /// Throws what a submit would, before anything is stored (a schedule that cannot submit
    /// would only fail later, in a worker's log).
    public func validate(limits: Limits) throws(JobqError) {
        guard !tasks.isEmpty else { throw JobqError(.invalidOption, "a schedule submits at least one task") }
        guard tasks.count <= limits.maxTasksPerSubmission else {
            throw JobqError(.tooManyTasks, "\(tasks.count) tasks in one submission; at most \(limits.maxTasksPerSubmission) allowed")
        }
        if case .at? = run.deadline {
            throw JobqError(.invalidOption, "a scheduled run's deadline must be a duration after its submission (30m), not a time")
        }
        var withoutID = run
        withoutID.id = nil
        try withoutID.validate()
        for spec in tasks {
            guard spec.id != nil else { throw JobqError(.invalidOption, "every task of a schedule needs a key (its id within the run)") }
            // A held key would refuse the tick's run whole (unique_held) and leave the schedule
            // retrying it; what a tick does while earlier work goes is the overlap policy's job.
            guard spec.uniqueness == nil else {
                throw JobqError(.invalidOption, "task \(spec.id ?? ""): a scheduled run's tasks cannot have a unique key; use the schedule's --overlap (skip, cancel, buffer) for \"not while the last one runs\"", subject: spec.id)
            }
            try spec.validate(limits: limits)
        }
    }

    // MARK: Stored form

    private struct StoredTask: Codable {
        var id: String
        var handler: String
        var queue: String
        var payload: String
        var after: [Prerequisite]
        var maxAttempts: Int
        var backoff: RetryBackoff
        var timeoutMs: Int64
        var delayMs: Int64
        var ttlMs: Int64
        var title: String
        var precondition: String?
        var cacheKey: String?
        /// ``TaskSpec/concurrency`` (absent without one, so older records decode and keep their bytes)
        var concurrencyKey: String? = nil
        var concurrencyLimit: Int? = nil
        /// ``TaskSpec/priority``, absent for the default (older records decode, same bytes)
        var priority: Int? = nil
        /// ``TaskSpec/rate`` (absent without one): the count, the interval and the key template
        /// (absent: the queue)
        var rateCount: Int? = nil
        var rateIntervalMs: Int64? = nil
        var rateKey: String? = nil
        /// ``TaskSpec/fairKey`` (the template), absent without one (older records decode, same bytes)
        var fairKey: String? = nil
    }

    private struct Stored: Codable {
        var definition: String
        var tasks: [StoredTask]
        var window: Int?
        var deadlineMs: Int64?
        var failFast: Bool
        var critical: [String]
        var output: String?
    }

    /// The JSON stored in the record (keys sorted: stable bytes, so every tick's submission has
    /// the same idempotency fingerprint).
    package var encoded: String {
        var deadline: Int64?
        if case .after(let duration)? = run.deadline { deadline = duration.jobqMilliseconds }
        let stored = Stored(
            definition: run.definition,
            tasks: tasks.map {
                StoredTask(
                    id: $0.id ?? "", handler: $0.handler, queue: $0.queue, payload: String(decoding: $0.payload, as: UTF8.self),
                    after: $0.prerequisites, maxAttempts: $0.maxAttempts, backoff: $0.backoff,
                    timeoutMs: $0.timeout.jobqMilliseconds, delayMs: $0.delay.jobqMilliseconds, ttlMs: $0.resultTTL.jobqMilliseconds,
                    title: $0.title, precondition: $0.precondition?.compiledJSON, cacheKey: $0.cacheKey?.template,
                    concurrencyKey: $0.concurrency?.key, concurrencyLimit: $0.concurrency?.limit,
                    priority: $0.priority == TaskSpec.defaultPriority ? nil : $0.priority,
                    rateCount: $0.rate?.count, rateIntervalMs: $0.rate?.interval.jobqMilliseconds, rateKey: $0.rate?.key,
                    fairKey: $0.fairKey
                )
            },
            window: run.window, deadlineMs: deadline, failFast: run.failFast, critical: run.critical.sorted(), output: run.output
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(stored), as: UTF8.self)) ?? "{}"
    }

    /// Reads the stored JSON back; throws `corrupt_record` when it does not decode.
    package init(encoded text: String, schedule: String) throws(JobqError) {
        let stored: Stored
        do {
            stored = try JSONDecoder().decode(Stored.self, from: Data(text.utf8))
        } catch {
            throw JobqError(.corruptRecord, "schedule \(schedule): its submission does not decode (\(error))", subject: schedule)
        }
        var specs: [TaskSpec] = []
        for task in stored.tasks {
            var spec = TaskSpec(
                id: task.id, handler: task.handler, queue: task.queue, payload: Array(task.payload.utf8),
                prerequisites: task.after, maxAttempts: task.maxAttempts, backoff: task.backoff,
                timeout: .milliseconds(task.timeoutMs), delay: .milliseconds(task.delayMs), resultTTL: .milliseconds(task.ttlMs),
                title: task.title
            )
            if let precondition = task.precondition { spec.precondition = try Precondition(compiledJSON: precondition) }
            if let cacheKey = task.cacheKey { spec.cacheKey = try CacheKey(cacheKey) }
            if let key = task.concurrencyKey { spec.concurrency = ConcurrencyLimit(key: key, limit: task.concurrencyLimit ?? 0) }
            spec.priority = task.priority ?? TaskSpec.defaultPriority
            if let count = task.rateCount { spec.rate = RateLimit(count, per: .milliseconds(task.rateIntervalMs ?? 0), key: task.rateKey) }
            spec.fairKey = task.fairKey
            specs.append(spec)
        }
        tasks = specs
        run = RunOptions(
            definition: stored.definition, window: stored.window, deadline: stored.deadlineMs.map { .after(.milliseconds($0)) },
            failFast: stored.failFast, critical: Set(stored.critical), output: stored.output
        )
    }
}
