import Foundation
import JobqRedis

/// A sub-workflow: the definition a task of a run starts as a child run when it becomes ready
/// (docs/workflow-files.md, "Sub-workflows"). It travels as the payload of a task whose handler
/// is the built-in ``handlerName``; the worker that claims the task submits the child run
/// (idempotently, so a re-run after a worker death finds the same child), and the task waits
/// for it in no queue, holding no worker slot, until the child run ends.
public struct ChildRunRequest: Codable, Sendable, Hashable {
    /// The built-in handler every worker runs for sub-workflow tasks.
    public static let handlerName = "jobq.run"
    /// A sub-workflow task may wait this long for its child (its timeout covers only starting
    /// the child; waiting holds no lease).
    public static let startTimeout: Duration = .seconds(60)

    /// One task of the child definition, in a form that survives JSON.
    public struct ChildTask: Codable, Sendable, Hashable {
        public struct Edge: Codable, Sendable, Hashable {
            public var id: String
            public var policy: String
        }
        public var key: String
        public var handler: String
        public var queue: String
        /// The payload's JSON text.
        public var payload: String
        public var after: [Edge]
        public var maxAttempts: Int
        public var timeoutMs: Int64
        public var delayMs: Int64
        public var keepMs: Int64
        public var backoff: RetryBackoff
        public var title: String
        /// The precondition in its compiled form (``Precondition``), if any.
        public var precondition: String?
        /// Its expiry (``TaskSpec/expires``): after the child run starts (ms), or at a time (ms
        /// since the epoch); absent in requests written before expiries.
        public var expiresMs: Int64? = nil
        public var expiresAtMs: Int64? = nil
        /// ``TaskSpec/maxSnoozes``; absent (the default) in requests written before snoozes.
        public var maxSnoozes: Int? = nil
        /// ``TaskSpec/concurrency``: the key template and the limit; absent without one (and in
        /// requests written before concurrency limits).
        public var concurrencyKey: String? = nil
        public var concurrencyLimit: Int? = nil
        /// ``TaskSpec/rate``: the count, the interval (ms) and the key template (absent: the
        /// queue); absent without one.
        public var rateCount: Int? = nil
        public var rateIntervalMs: Int64? = nil
        public var rateKey: String? = nil
        /// ``TaskSpec/waitFor`` as submit.lua's `name/timeout_ms/action`; absent for none.
        public var waitFor: String? = nil
        /// ``TaskSpec/priority``; absent for the default (and in requests written before priorities).
        public var priority: Int? = nil
        /// ``TaskSpec/service``; absent for an ordinary task.
        public var service: Bool? = nil
        /// ``TaskSpec/fairKey`` (the template); absent for none.
        public var fairKey: String? = nil
    }

    public var definition: String
    public var tasks: [ChildTask]
    public var window: Int?
    public var failFast: Bool
    public var critical: [String]
    /// The child task whose result becomes the sub-workflow task's result.
    public var output: String?
    /// The child's own deadline, after it starts (ms); the parent's deadline reaches it anyway,
    /// as a cancellation that flows down.
    public var deadlineMs: Int64?

    /// A child definition from specs (their ids are keys within the child run).
    public init(definition: String, tasks: [TaskSpec], window: Int? = nil, failFast: Bool = false, critical: Set<String> = [], output: String? = nil) throws(JobqError) {
        self.definition = definition
        self.window = window
        self.failFast = failFast
        self.critical = critical.sorted()
        self.output = output
        var children: [ChildTask] = []
        for spec in tasks {
            guard let key = spec.id else { throw JobqError(.invalidOption, "tasks of a sub-workflow need an id") }
            var child = ChildTask(
                key: key, handler: spec.handler, queue: spec.queue, payload: String(decoding: spec.payload, as: UTF8.self),
                after: spec.prerequisites.map { ChildTask.Edge(id: $0.id, policy: $0.policy.rawValue) },
                maxAttempts: spec.maxAttempts, timeoutMs: spec.timeout.jobqMilliseconds, delayMs: spec.delay.jobqMilliseconds,
                keepMs: spec.resultTTL.jobqMilliseconds, backoff: spec.backoff, title: spec.title,
                precondition: spec.precondition?.compiledJSON
            )
            switch spec.expires {
            case .after(let duration)?: child.expiresMs = duration.jobqMilliseconds
            case .at(let date)?: child.expiresAtMs = Int64(date.timeIntervalSince1970 * 1000)
            case nil: break
            }
            if spec.maxSnoozes != TaskSpec.defaultMaxSnoozes { child.maxSnoozes = spec.maxSnoozes }
            child.concurrencyKey = spec.concurrency?.key
            child.concurrencyLimit = spec.concurrency?.limit
            child.rateCount = spec.rate?.count
            child.rateIntervalMs = spec.rate?.interval.jobqMilliseconds
            child.rateKey = spec.rate?.key
            child.waitFor = spec.waitFor?.scriptArgument
            if spec.priority != TaskSpec.defaultPriority { child.priority = spec.priority }
            if spec.service { child.service = true }
            child.fairKey = spec.fairKey
            children.append(child)
        }
        self.tasks = children
        if let output, !children.contains(where: { $0.key == output }) {
            throw JobqError(.invalidOption, "the sub-workflow's output \(output) is not one of its tasks", subject: output)
        }
    }

    /// The payload bytes of the sub-workflow task.
    public func encoded() throws(JobqError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { return Array(try encoder.encode(self)) } catch {
            throw JobqError(.internalError, "cannot encode a sub-workflow: \(error)")
        }
    }

    /// Reads a sub-workflow task's payload; `bad_payload`-style `invalid_payload` when it is not one.
    public static func decode(_ payload: [UInt8]) throws(JobqError) -> ChildRunRequest {
        do { return try JSONDecoder().decode(ChildRunRequest.self, from: Data(payload)) } catch {
            throw JobqError(.invalidPayload, "the payload of a \(handlerName) task is not a sub-workflow definition: \(error)")
        }
    }

    /// The child's tasks and options, ready to submit as run `id`.
    public func submission(id: String) throws(JobqError) -> (tasks: [TaskSpec], options: RunOptions) {
        var specs: [TaskSpec] = []
        for task in tasks {
            var prerequisites: [Prerequisite] = []
            for edge in task.after {
                guard let policy = DependencyPolicy(rawValue: edge.policy) else {
                    throw JobqError(.invalidPayload, "sub-workflow task \(task.key): unknown policy \(edge.policy)")
                }
                prerequisites.append(Prerequisite(edge.id, policy: policy))
            }
            var spec = TaskSpec(
                id: task.key, handler: task.handler, queue: task.queue, payload: Array(task.payload.utf8), prerequisites: prerequisites,
                maxAttempts: task.maxAttempts, backoff: task.backoff, timeout: .milliseconds(task.timeoutMs), delay: .milliseconds(task.delayMs),
                resultTTL: .milliseconds(task.keepMs), title: task.title,
                precondition: try task.precondition.map { text throws(JobqError) in try Precondition(compiledJSON: text) },
                expires: task.expiresMs.map { .after(.milliseconds($0)) }
                    ?? task.expiresAtMs.map { .at(Date(timeIntervalSince1970: Double($0) / 1000)) },
                maxSnoozes: task.maxSnoozes ?? TaskSpec.defaultMaxSnoozes,
                concurrency: task.concurrencyKey.map { ConcurrencyLimit(key: $0, limit: task.concurrencyLimit ?? 0) },
                priority: task.priority ?? TaskSpec.defaultPriority
            )
            spec.service = task.service ?? false
            spec.fairKey = task.fairKey
            if let count = task.rateCount { spec.rate = RateLimit(count, per: .milliseconds(task.rateIntervalMs ?? 0), key: task.rateKey) }
            if let text = task.waitFor {
                guard let wait = DeclaredWait(scriptArgument: text) else {
                    throw JobqError(.invalidPayload, "sub-workflow task \(task.key): bad wait_for \(text)")
                }
                spec.waitFor = wait
            }
            specs.append(spec)
        }
        let options = RunOptions(id: id, definition: definition, window: window, deadline: deadlineMs.map { .after(.milliseconds($0)) }, failFast: failFast, critical: Set(critical), output: output)
        return (specs, options)
    }

    /// The child run a running task spawns under `key` (`HandlerContext.spawn`): derived from the
    /// task and the key, so that a retried or re-invoked parent that spawns the same key again
    /// finds the run (`RUN.KEY.SPAWNKEY`, shortened as below).
    public static func childRunID(parent: String, key: String) -> String {
        childRunID(parent: parent + "/" + key)
    }

    /// The child run's id for the task `parent` (`RUN/KEY`): derived, so that a re-run of the
    /// task finds the run it started: `RUN.KEY`, shortened with a digest when too long.
    public static func childRunID(parent: String) -> String {
        let flat = parent.replacingOccurrences(of: "/", with: ".")
        guard flat.utf8.count > Validation.maxNameLength else { return flat }
        let digest = String(SHA1.hexDigest(Array(parent.utf8)).prefix(16))
        return String(flat.prefix(Validation.maxNameLength - 17)) + "-" + digest
    }
}
