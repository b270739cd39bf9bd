import JobqRedis

/// Namespace-wide figures for `jobq stats`: plain reads, pipelined, no state changes.
extension Coordinator {
    /// What the namespace holds right now.
    public struct Overview: Sendable, Hashable {
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

    /// Sizes of the indexes, in two round trips.
    public func overview() async throws(JobqError) -> Overview {
        let terminal: [TaskState] = [.done, .failed, .cancelled]
        let queueNames = try await queues().map(\.name)
        var commands = [
            RedisCommand("ZCARD", [RedisArgument(keys.waiting)]),
            RedisCommand("ZCARD", [RedisArgument(keys.delayed)]),
            RedisCommand("ZCARD", [RedisArgument(keys.leases)]),
            RedisCommand("ZCARD", [RedisArgument(keys.workers)]),
            RedisCommand("TIME"),
        ]
        commands += terminal.map { RedisCommand("ZCARD", [RedisArgument(keys.ended($0))]) }
        commands += queueNames.map { RedisCommand("LLEN", [RedisArgument(keys.ready($0))]) }
        let replies: [RedisValue]
        do {
            replies = try await redis.pipeline(commands)
        } catch {
            throw Self.translate(error, doing: "read overview")
        }
        var finished: [TaskState: Int] = [:]
        for (offset, state) in terminal.enumerated() { finished[state] = replies[5 + offset].int ?? 0 }
        let ready = replies[(5 + terminal.count)...].reduce(0) { $0 + ($1.int ?? 0) }
        return Overview(
            waiting: replies[0].int ?? 0, delayed: replies[1].int ?? 0, ready: ready, running: replies[2].int ?? 0,
            finished: finished, workers: replies[3].int ?? 0, now: Self.milliseconds(fromTime: replies[4])
        )
    }

    /// Redis server time in milliseconds (for ages that do not depend on the local clock).
    public func serverTime() async throws(JobqError) -> Int64 {
        do {
            return Self.milliseconds(fromTime: try await redis.send(RedisCommand("TIME")))
        } catch {
            throw Self.translate(error, doing: "read server time")
        }
    }

    static func milliseconds(fromTime reply: RedisValue) -> Int64 {
        let parts = reply.array ?? []
        let seconds = Int64(parts.first?.string ?? "") ?? 0
        let micros = Int64(parts.count > 1 ? parts[1].string ?? "" : "") ?? 0
        return seconds * 1000 + micros / 1000
    }

    /// Every id in a terminal state's index (finished tasks still kept), read in pages.
    public func finishedTaskIDs(in state: TaskState, pageSize: Int = 5000) async throws(JobqError) -> [String] {
        guard state.isTerminal else { return [] }
        var ids: [String] = []
        var offset = 0
        while true {
            let page: [String]
            do {
                let reply = try await redis.send(RedisCommand("ZRANGE", [
                    RedisArgument(keys.ended(state)), RedisArgument(offset), RedisArgument(offset + pageSize - 1),
                ]))
                page = (reply.array ?? []).compactMap(\.string)
            } catch {
                throw Self.translate(error, doing: "list finished tasks")
            }
            ids += page
            if page.count < pageSize { return ids }
            offset += pageSize
        }
    }
}
