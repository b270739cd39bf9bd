/// What a namespace holds right now (`jobq stats`).
public struct NamespaceOverview: Sendable, Hashable {
    /// PENDING tasks waiting for prerequisites.
    public var waiting: Int
    /// PENDING tasks waiting for a time (a delay or a retry backoff).
    public var delayed: Int
    /// Ids in the ready lists of all queues (may include ids cancelled while queued).
    public var ready: Int
    /// RUNNING tasks (under a lease).
    public var running: Int
    /// Finished tasks still kept, per terminal state.
    public var finished: [TaskState: Int]
    /// Workers seen alive.
    public var workers: Int
    /// Redis server time, milliseconds since the epoch.
    public var now: Int64

    /// PENDING tasks, all kinds (approximate: ready lists may hold stale ids).
    public var pending: Int { waiting + delayed + ready }
}
