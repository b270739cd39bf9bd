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
    /// When each task of ``running`` passes its timeout (Redis ms: its claim's start plus its
    /// timeout, ``timeoutDeadline(leaseDeadline:lease:timeout:)``), as the worker registered it;
    /// a task without a timeout has no entry. `nil` from a worker that does not say (an older
    /// version): its tasks' records are read instead. It lets a read of the workers find the
    /// overdue tasks without reading the record of every running task.
    public var deadlines: [String: Int64]?

    public init(id: String, host: String, pid: Int, queues: [String], concurrency: Int, running: [String], lastSeen: Int64 = 0,
                heartbeatMilliseconds: Int64? = nil, overdue: [String] = [], deadlines: [String: Int64]? = nil) {
        self.id = id
        self.host = host
        self.pid = pid
        self.queues = queues
        self.concurrency = concurrency
        self.running = running
        self.lastSeen = lastSeen
        self.heartbeatMilliseconds = heartbeatMilliseconds
        self.overdue = overdue
        self.deadlines = deadlines
    }

    /// When a task claimed with `lease` (the claim's reply: its `leaseDeadline`) passes its
    /// `timeout`, in Redis ms: claim.lua sets the task's `started` to its now and the lease
    /// deadline to now + lease, so this is `started + timeout`, the instant the overdue rule
    /// compares with. `nil` for a task without a timeout (0), which is never overdue.
    public static func timeoutDeadline(leaseDeadline: Int64, lease: Duration, timeout: Duration) -> Int64? {
        guard timeout > .zero else { return nil }
        return leaseDeadline - lease.jobqMilliseconds + timeout.jobqMilliseconds
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

    /// The registration's `deadlines` field: one entry per id of `running`, in its order, the
    /// deadline in ms or `-` for a task without a timeout, comma-separated.
    package static func encode(deadlines: [String: Int64], of running: [String]) -> String {
        running.map { deadlines[$0].map(String.init) ?? "-" }.joined(separator: ",")
    }

    /// The deadlines `field` (``encode(deadlines:of:)``) gives the ids of `running`; `nil` when
    /// the field is absent or does not match the list (a registration of an older worker).
    package static func decode(deadlines field: String?, of running: [String]) -> [String: Int64]? {
        guard let field else { return nil }
        let entries = running.isEmpty ? [] : field.split(separator: ",", omittingEmptySubsequences: false)
        guard entries.count == running.count else { return nil }
        var deadlines: [String: Int64] = [:]
        for (id, entry) in zip(running, entries) {
            if let value = Int64(entry) { deadlines[id] = value }
        }
        return deadlines
    }
}
