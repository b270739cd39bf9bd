/// One queue's figures.
public struct QueueInfo: Sendable, Hashable {
    public let name: String
    /// Ids waiting in the ready list (may include stale ids of cancelled tasks).
    public let ready: Int
    public let paused: Bool
    /// Seconds since its oldest claimable task became claimable (queue latency, as the metrics'
    /// `jobq_queue_latency_seconds`); `nil` when no task waits in its lanes.
    public let oldestAge: Double?
    /// Fair keys (``TaskSpec/fairKey``) with ready tasks on the queue, over every priority:
    /// claims take them in turns. 0 when no ready task has one.
    public let fairKeys: Int

    public init(name: String, ready: Int, paused: Bool, oldestAge: Double? = nil, fairKeys: Int = 0) {
        self.name = name
        self.ready = ready
        self.paused = paused
        self.oldestAge = oldestAge
        self.fairKeys = fairKeys
    }
}
