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
    /// How often it beats, in ms, as it registered (`nil` from a worker that did not say: the
    /// default, 10 s, is assumed).
    public var heartbeatMilliseconds: Int64?
    /// The tasks it runs that have run longer than their timeout (filled in on read): a handler
    /// that ignores its deadline, or a worker whose deadline watch is stuck.
    public var overdue: [String]

    public init(id: String, host: String, pid: Int, queues: [String], concurrency: Int, running: [String], lastSeen: Int64 = 0,
                heartbeatMilliseconds: Int64? = nil, overdue: [String] = []) {
        self.id = id
        self.host = host
        self.pid = pid
        self.queues = queues
        self.concurrency = concurrency
        self.running = running
        self.lastSeen = lastSeen
        self.heartbeatMilliseconds = heartbeatMilliseconds
        self.overdue = overdue
    }

    /// Heartbeats missed before a worker is flagged silent: its registration lives 3 beats too,
    /// so a silent worker is one about to vanish (or a clock/partition problem).
    public static let silentAfterBeats: Int64 = 3
    /// The heartbeat interval assumed for a worker that did not register one (the default).
    public static let defaultHeartbeatMilliseconds: Int64 = 10_000

    /// Whether its last heartbeat is older than ``silentAfterBeats`` intervals at Redis time `now`.
    public func isSilent(now: Int64) -> Bool {
        now - lastSeen > Self.silentAfterBeats * (heartbeatMilliseconds ?? Self.defaultHeartbeatMilliseconds)
    }

    /// Silent, or running a task past its timeout: worth a look (the dashboard's and `jobq
    /// workers`' stuck flag).
    public func isStuck(now: Int64) -> Bool { isSilent(now: now) || !overdue.isEmpty }
}
