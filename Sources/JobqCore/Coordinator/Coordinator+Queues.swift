import JobqRedis

/// Queues and workers: operational state that is not a task transition, so plain commands.
extension Coordinator {
    /// One queue's figures.
    public struct QueueInfo: Sendable, Hashable {
        public let name: String
        /// Ids waiting in the ready list (may include stale ids of cancelled tasks).
        public let ready: Int
        public let paused: Bool
    }

    /// Stops claims from `queue` (running tasks finish; submits still accepted).
    public func pause(queue: String) async throws(JobqError) {
        try Validation.check(name: queue, as: .queue)
        try await command(RedisCommand("SADD", [RedisArgument(keys.paused), RedisArgument(queue)]), doing: "pause")
    }

    /// Lets workers claim from `queue` again, and wakes them.
    public func resume(queue: String) async throws(JobqError) {
        try Validation.check(name: queue, as: .queue)
        try await command(RedisCommand("SREM", [RedisArgument(keys.paused), RedisArgument(queue)]), doing: "resume")
        try await command(RedisCommand("LPUSH", [RedisArgument(keys.wake(queue)), "1"]), doing: "resume")
    }

    /// Every queue ever used, with its ready count and pause flag.
    public func queues() async throws(JobqError) -> [QueueInfo] {
        do {
            let names = (try await redis.send(RedisCommand("SMEMBERS", [RedisArgument(keys.queues)])).array ?? []).compactMap(\.string).sorted()
            let paused = Set((try await redis.send(RedisCommand("SMEMBERS", [RedisArgument(keys.paused)])).array ?? []).compactMap(\.string))
            let lengths = try await redis.pipeline(names.map { RedisCommand("LLEN", [RedisArgument(keys.ready($0))]) })
            return zip(names, lengths).map { QueueInfo(name: $0, ready: $1.int ?? 0, paused: paused.contains($0)) }
        } catch {
            throw Self.translate(error, doing: "list queues")
        }
    }

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

    /// Publishes `worker`'s self-description; it disappears `ttl` after the last call.
    public func register(worker: WorkerInfo, ttl: Duration) async throws(JobqError) {
        let key = RedisArgument(keys.worker(worker.id))
        let now = Int(try await serverTime())
        do {
            let replies = try await redis.pipeline([
                RedisCommand("HSET", [
                    key, "host", RedisArgument(worker.host), "pid", RedisArgument(worker.pid),
                    "queues", RedisArgument(worker.queues.joined(separator: ",")),
                    "concurrency", RedisArgument(worker.concurrency), "running", RedisArgument(worker.running.joined(separator: ",")),
                ]),
                RedisCommand("PEXPIRE", [key, RedisArgument(Int(ttl.jobqMilliseconds))]),
                RedisCommand("ZADD", [RedisArgument(keys.workers), RedisArgument(now), RedisArgument(worker.id)]),
                RedisCommand("ZREMRANGEBYSCORE", [RedisArgument(keys.workers), "-inf", RedisArgument(now - Int(ttl.jobqMilliseconds))]),
            ])
            for reply in replies { try reply.throwIfError() }
        } catch {
            throw Self.translate(error, doing: "register worker")
        }
    }

    /// Removes a stopping worker from the registry.
    public func unregister(worker id: String) async throws(JobqError) {
        try await command(RedisCommand("DEL", [RedisArgument(keys.worker(id))]), doing: "unregister worker")
        try await command(RedisCommand("ZREM", [RedisArgument(keys.workers), RedisArgument(id)]), doing: "unregister worker")
    }

    /// Workers seen alive, most recent first.
    public func workers() async throws(JobqError) -> [WorkerInfo] {
        do {
            let members = try await redis.send(RedisCommand("ZREVRANGE", [RedisArgument(keys.workers), 0, -1, "WITHSCORES"])).array ?? []
            var ids: [(String, Int64)] = []
            var index = 0
            while index + 1 < members.count {
                ids.append((members[index].string ?? "", Int64(members[index + 1].string ?? "") ?? 0))
                index += 2
            }
            let hashes = try await redis.pipeline(ids.map { RedisCommand("HGETALL", [RedisArgument(keys.worker($0.0))]) })
            return zip(ids, hashes).compactMap { entry, reply in
                let fields = Self.hash(reply).mapValues { String(decoding: $0, as: UTF8.self) }
                guard !fields.isEmpty else { return nil }
                return WorkerInfo(
                    id: entry.0, host: fields["host"] ?? "", pid: Int(fields["pid"] ?? "") ?? 0,
                    queues: (fields["queues"] ?? "").split(separator: ",").map(String.init),
                    concurrency: Int(fields["concurrency"] ?? "") ?? 0,
                    running: (fields["running"] ?? "").split(separator: ",").map(String.init), lastSeen: entry.1
                )
            }
        } catch {
            throw Self.translate(error, doing: "list workers")
        }
    }

    private func command(_ command: RedisCommand, doing what: String) async throws(JobqError) {
        do {
            _ = try await redis.send(command)
        } catch {
            throw Self.translate(error, doing: what)
        }
    }
}
