/// One queue's figures.
public struct QueueInfo: Sendable, Hashable {
    public let name: String
    /// Ids waiting in the ready list (may include stale ids of cancelled tasks).
    public let ready: Int
    public let paused: Bool
    /// Seconds since its oldest claimable task became claimable (queue latency, as the metrics'
    /// `jobq_queue_latency_seconds`); `nil` when no task waits in its lanes.
    public let oldestAge: Double?

    public init(name: String, ready: Int, paused: Bool, oldestAge: Double? = nil) {
        self.name = name
        self.ready = ready
        self.paused = paused
        self.oldestAge = oldestAge
    }
}
