/// Builds every Redis key jobq uses; nothing else concatenates key strings.
///
/// All keys of a namespace share the hash tag `{ns}`, so multi-key scripts stay valid on a
/// Redis Cluster. The Lua prelude (`Scripts/prelude.lua`, table `K`) mirrors these names for
/// keys that scripts derive from ids; `docs/keyspace.md` lists every key, its type and its writers.
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

    /// Hash: the task record, the source of truth.
    public func task(_ id: String) -> String { prefix + "t:" + id }
    /// Hash: prerequisite id → edge policy.
    public func prerequisites(_ id: String) -> String { prefix + "t:" + id + ":deps" }
    /// Hash: dependent id → edge policy.
    public func dependents(_ id: String) -> String { prefix + "t:" + id + ":next" }
    /// List: the task's log lines (capped).
    public func log(_ id: String) -> String { prefix + "t:" + id + ":log" }
    /// Hash: progress groups of a running task.
    public func progress(_ id: String) -> String { prefix + "t:" + id + ":progress" }
    /// List: ids ready to run on `queue` (LPUSH in, RPOP out: FIFO).
    public func ready(_ queue: String) -> String { prefix + "q:" + queue }
    /// List: wake-up tokens that blocked claimers wait on (BLPOP), capped.
    public func wake(_ queue: String) -> String { prefix + "wake:" + queue }
    /// Sorted set: PENDING tasks waiting for a time (delay or retry backoff), by due time.
    public var delayed: String { prefix + "delayed" }
    /// Sorted set: RUNNING tasks by lease deadline (the index of running tasks).
    public var leases: String { prefix + "leases" }
    /// Sorted set: PENDING tasks with unresolved prerequisites, by creation time.
    public var waiting: String { prefix + "waiting" }
    /// Sorted set per terminal state (DONE, FAILED, CANCELLED): ids by the time their record
    /// expires; the maintenance pass deletes them then.
    public func ended(_ state: TaskState) -> String { prefix + "s:" + state.rawValue }
    /// Hash: workflow metadata (created, total).
    public func workflow(_ id: String) -> String { prefix + "wf:" + id }
    /// Sorted set: a workflow's task ids in submission order.
    public func workflowTasks(_ id: String) -> String { prefix + "wf:" + id + ":tasks" }
    /// Hash: fingerprint and ids of an idempotent submission.
    public func idempotency(_ key: String) -> String { prefix + "idem:" + key }
    /// Stream: the audit log of every transition (capped).
    public var events: String { prefix + "events" }
    /// String: fencing token counter.
    public var token: String { prefix + "token" }
    /// Set: paused queue names.
    public var paused: String { prefix + "paused" }
    /// Set: every queue name ever used.
    public var queues: String { prefix + "queues" }
    /// Hash: counters (submitted, claimed, done, failed, cancelled, retried, reopened).
    public var stats: String { prefix + "stats" }
    /// String (SET NX PX): which worker runs the maintenance pass right now.
    public var maintenanceLock: String { prefix + "maintenance" }
    /// Sorted set: worker ids by last heartbeat time.
    public var workers: String { prefix + "workers" }
    /// List: ids of tasks this worker runs whose cancellation was just requested (BLPOP'ed by
    /// the worker, so cancellation reaches a handler at once rather than at the next heartbeat).
    public func control(_ workerID: String) -> String { prefix + "ctl:" + workerID }
    /// Hash: one worker's self-description (host, pid, queues, concurrency, started).
    public func worker(_ id: String) -> String { prefix + "worker:" + id }
}
