import Foundation
import JobqCore

/// A workflow definition: a set of tasks with dependencies (a DAG), built in Swift; each
/// ``JobqClient/submit(_:run:idempotencyKey:)`` of it starts a new, separate run.
///
/// After asynciojobs' scheduler: tasks `require` others, `sequence` chains them, the graph is
/// checked for cycles and unknown references before anything reaches Redis, and it can be
/// exported as Graphviz DOT. Task ids are keys within the run: a run's task `fetch` has the id
/// `RUN/fetch`, and its tasks name each other by key.
///
/// ```swift
/// var flow = Workflow("nightly")
/// let fetch = try flow.add("fetch", handler: "http.get", payload: ["url": "https://example.com"])
/// let parse = try flow.add("parse", handler: "html.parse", requires: [fetch])
/// try flow.add("notify", handler: "mail.send", requires: [parse], policy: .always)
/// let run = try await client.submit(flow)          // nightly-01J…
/// let outcome = try await run.wait(timeout: .seconds(60))
/// print(outcome.state, outcome.summary)
/// ```
public struct Workflow: Sendable {
    /// A reference to a task of this workflow, for `requires:`.
    public struct TaskRef: Sendable, Hashable {
        public let id: String
    }

    /// The definition's name: runs get ids `NAME-<time-ordered suffix>` unless given one, and
    /// `jobq runs --definition NAME` lists them.
    public let name: String
    /// At most this many tasks of a run RUNNING at once, across every worker.
    public var window: Int?
    /// When a run must be over (see ``RunOptions/deadline``).
    public var deadline: RunOptions.Deadline?
    /// The first task that fails for good stops the rest of the run.
    public var failFast = false
    /// Tasks whose failure stops the run (``markCritical(_:)``).
    public private(set) var critical: Set<String> = []
    public private(set) var tasks: [TaskSpec] = []
    private var index: [String: Int] = [:]

    /// - Parameter name: the definition's name (the name grammar, `[A-Za-z0-9._-]{1,128}`).
    public init(_ name: String = "workflow") {
        self.name = name
    }

    /// The spelling before workflows became runs: `id` is now the definition's name (each
    /// submission is a run of it, with its own run id). Kept so that code written against it
    /// still compiles, with a warning that says what to write.
    @available(*, deprecated, renamed: "init(_:)", message: "a workflow is a definition now: Workflow(\"name\"); each submission is a run")
    public init(id: String) {
        self.init(id)
    }

    /// Adds a task. Its id must be unique within the workflow; prerequisites must already be added.
    @discardableResult
    public mutating func add(_ spec: TaskSpec) throws(JobqError) -> TaskRef {
        guard let id = spec.id else {
            throw JobqError(.invalidOption, "tasks of a workflow need an id, so that others can require them")
        }
        try Validation.check(name: id, as: .taskID)
        guard index[id] == nil else {
            throw JobqError(.duplicateID, "workflow \(name) already has a task \(id)", subject: id)
        }
        index[id] = tasks.count
        tasks.append(spec)
        return TaskRef(id: id)
    }

    /// Adds a task whose payload is `payload` encoded as JSON. `expires`: not started by then
    /// (a duration counts from each run's submission), it ends CANCELLED with reason `expired`.
    /// `maxSnoozes`: how often a handler may snooze it (``TaskSpec/maxSnoozes``).
    /// `concurrency`: at most `limit` tasks of its expanded key running at once, fleet-wide
    /// (``ConcurrencyLimit``; `ConcurrencyLimit(key: "tenant-{payload.tenant}", limit: 2)`).
    /// `waitFor`: a signal it waits for before it runs (``TaskSpec/waitFor``).
    /// `unique`: a unique key (``Uniqueness``, until started / until finished / for D, or a
    /// throttle): the run is refused whole (`unique_held`) while another task holds the key.
    /// `priority`: its priority within its queue, -100...100, higher first (``TaskSpec/priority``).
    /// `rate`: at most `count` tasks of its expanded key start per `interval`, fleet-wide
    /// (``RateLimit``; `RateLimit(100, per: .seconds(60), key: "api-{payload.tenant}")`).
    /// `fairKey`: claimed in turns with its queue's other keys (``TaskSpec/fairKey``;
    /// `"tenant-{payload.tenant}"`).
    @discardableResult
    public mutating func add(
        _ id: String, handler: String, payload: some Encodable & Sendable = JSONNull(), queue: String = TaskSpec.defaultQueue,
        requires prerequisites: [TaskRef] = [], policy: DependencyPolicy = .success,
        maxAttempts: Int = TaskSpec.defaultMaxAttempts, timeout: Duration = TaskSpec.defaultTimeout, title: String = "",
        precondition: Precondition? = nil, cacheKey: String? = nil, expires: TaskExpiry? = nil,
        maxSnoozes: Int = TaskSpec.defaultMaxSnoozes, concurrency: ConcurrencyLimit? = nil, waitFor: DeclaredWait? = nil,
        unique: Uniqueness? = nil,
        priority: Int = TaskSpec.defaultPriority,
        rate: RateLimit? = nil,
        fairKey: String? = nil
    ) throws(JobqError) -> TaskRef {
        var spec = TaskSpec(
            id: id, handler: handler, queue: queue, payload: try PayloadCoding.encode(payload),
            prerequisites: prerequisites.map { Prerequisite($0.id, policy: policy) },
            maxAttempts: maxAttempts, timeout: timeout, title: title, precondition: precondition,
            cacheKey: try cacheKey.map { template throws(JobqError) in try CacheKey(template) }, expires: expires,
            maxSnoozes: maxSnoozes, concurrency: concurrency, priority: priority
        )
        try spec.concurrency?.validate(payload: spec.payload, subject: id)
        try TaskSpec.check(priority: priority, subject: id)
        spec.waitFor = waitFor
        spec.uniqueness = unique
        try spec.uniqueness?.validate(spec: spec, subject: id)
        spec.rate = rate
        try spec.rate?.validate(payload: spec.payload, queue: spec.queue, subject: id)
        if let fairKey { _ = try FairKey.expand(fairKey, payload: spec.payload, subject: id) }
        spec.fairKey = fairKey
        try spec.precondition?.validate(prerequisites: spec.prerequisites.map(\.id))
        try spec.expires?.validate("the task's expiry", maximum: TaskSpec.maxExpiry, subject: id)
        try spec.cacheKey?.validate(prerequisites: spec.prerequisites.map(\.id))
        return try add(spec)
    }

    /// Adds a sub-workflow: a task that, when it becomes ready, starts a run of `child` (a child
    /// run, `RUN.KEY`) and ends with it — DONE with the result of `child`'s task `output` (null
    /// without one), or FAILED (reason `child_failed`). It holds no worker slot while the child
    /// runs; cancelling it (or its run, or its run's deadline) cancels the child run.
    @discardableResult
    public mutating func add(
        _ key: String, subWorkflow child: Workflow, output: String? = nil, requires prerequisites: [TaskRef] = [],
        policy: DependencyPolicy = .success, title: String = ""
    ) throws(JobqError) -> TaskRef {
        let request = try ChildRunRequest(
            definition: child.name, tasks: child.tasks, window: child.window, failFast: child.failFast, critical: child.critical, output: output
        )
        let spec = TaskSpec(
            id: key, handler: ChildRunRequest.handlerName, payload: try request.encoded(),
            prerequisites: prerequisites.map { Prerequisite($0.id, policy: policy) }, timeout: ChildRunRequest.startTimeout, title: title
        )
        return try add(spec)
    }

    /// Makes the failure of `task` stop the rest of the run (asynciojobs' critical jobs).
    public mutating func markCritical(_ task: TaskRef) throws(JobqError) {
        guard index[task.id] != nil else {
            throw JobqError(.notFound, "workflow \(name) has no task \(task.id)", subject: task.id)
        }
        critical.insert(task.id)
    }

    /// Makes `task` a service of the run (asynciojobs' `forever`, ``TaskSpec/service``): it starts
    /// as its prerequisites allow, is not waited for, and once every other task has ended its
    /// handler is told to stop (the cancel path) and it ends DONE, reason `service_stopped`,
    /// unless it failed on its own. Tasks that use it require it with `policy: .always`
    /// (released when it starts); `.success` or `.failure` is refused at submit.
    public mutating func markService(_ task: TaskRef) throws(JobqError) {
        guard let position = index[task.id] else {
            throw JobqError(.notFound, "workflow \(name) has no task \(task.id)", subject: task.id)
        }
        tasks[position].service = true
    }

    /// The run options this definition starts its runs with.
    public func runOptions(id: String? = nil) -> RunOptions {
        RunOptions(id: id, definition: name, window: window, deadline: deadline, failFast: failFast, critical: critical)
    }

    /// Makes `dependent` wait for `prerequisite` (asynciojobs' `requires`).
    public mutating func require(_ dependent: TaskRef, after prerequisite: TaskRef, policy: DependencyPolicy = .success) throws(JobqError) {
        guard let position = index[dependent.id] else {
            throw JobqError(.notFound, "workflow \(name) has no task \(dependent.id)", subject: dependent.id)
        }
        guard !tasks[position].prerequisites.contains(where: { $0.id == prerequisite.id }) else { return }
        tasks[position].prerequisites.append(Prerequisite(prerequisite.id, policy: policy))
    }

    /// Chains `refs` so that each runs after the one before it.
    public mutating func sequence(_ refs: [TaskRef]) throws(JobqError) {
        for (before, after) in zip(refs, refs.dropFirst()) {
            try require(after, after: before)
        }
    }

    /// The dependency graph among this workflow's tasks (edges to outside tasks are left out).
    public var graph: DependencyGraph {
        var graph = DependencyGraph()
        for spec in tasks { graph.addNode(spec.id ?? "") }
        for spec in tasks {
            for prerequisite in spec.prerequisites where index[prerequisite.id] != nil {
                graph.addEdge(prerequisite: prerequisite.id, dependent: spec.id ?? "")
            }
        }
        return graph
    }

    /// Task ids in an order that respects every dependency. Throws `cycle`.
    public func topologicalOrder() throws(JobqError) -> [String] {
        do {
            return try graph.topologicalOrder()
        } catch let error as DependencyGraph.CycleError {
            throw JobqError(.cycle, "the dependencies form a cycle: \(error.cycle.joined(separator: " -> "))", subject: error.cycle.first)
        } catch {
            throw JobqError(.internalError, "\(error)")
        }
    }

    /// Graphviz DOT of the workflow; `label` may add state or progress to each node.
    public func dot(label: (String) -> String = { $0 }) -> String {
        graph.dot(name: name) { ["label": label($0)] }
    }
}

/// Encodes `null` as a payload.
public struct JSONNull: Codable, Sendable, Hashable {
    public init() {}
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encodeNil()
    }
    public init(from decoder: any Decoder) throws {}
}
