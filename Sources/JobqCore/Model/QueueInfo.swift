/// One queue's figures.
public struct QueueInfo: Sendable, Hashable {
    public let name: String
    /// Ids waiting in the ready list (may include stale ids of cancelled tasks).
    public let ready: Int
    public let paused: Bool

    public init(name: String, ready: Int, paused: Bool) {
        self.name = name
        self.ready = ready
        self.paused = paused
    }
}
