/// What a worker says about itself; refreshed with its heartbeats.
public struct WorkerInfo: Sendable, Hashable {
    public var id: String
    public var host: String
    public var pid: Int
    public var queues: [String]
    public var concurrency: Int
    /// Ids of the tasks it runs now.
    public var running: [String]
    /// Redis ms of the last heartbeat (filled in on read).
    public var lastSeen: Int64

    public init(id: String, host: String, pid: Int, queues: [String], concurrency: Int, running: [String], lastSeen: Int64 = 0) {
        self.id = id
        self.host = host
        self.pid = pid
        self.queues = queues
        self.concurrency = concurrency
        self.running = running
        self.lastSeen = lastSeen
    }
}
