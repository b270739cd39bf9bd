import JobqRedis

/// The read behind cluster metrics: plain pipelined reads of the indexes and counters jobq
/// maintains, in four round trips, never a walk over tasks or keys (no SCAN).
extension Inspector {
    /// Caps on what one snapshot reads, so a namespace with unusually many queues or workers
    /// still answers in bounded work.
    package struct SnapshotLimits: Sendable, Hashable {
        /// Queues read lane by lane (by name order); the rest count in `queueCount` only.
        package var queues = 1000
        /// Workers whose slots are read (least recent heartbeat first, so a stuck one is seen).
        package var workers = 1000
        /// Ids looked at from the old end of each lane to find a PENDING task (a lane may hold
        /// stale ids of tasks cancelled while queued; claim drops them).
        package var probe = 4

        package init() {}
    }

    /// Everything the metrics render, in four pipelined round trips: 16 commands (sizes,
    /// names, counters); then 2, plus 1 per queue read (its priority levels) and 1 per worker
    /// read; then an LLEN and an LRANGE of the old end per lane of each queue read (quarantine,
    /// recovered, and one ready lane per priority in use: ``readLanes(_:of:probe:)``, as `jobq
    /// queues` reads them); then one HMGET per id found at the lanes' old ends (at most `probe`
    /// per lane). A queued task counts as claimable since the latest of its submission, its
    /// `run_after` (delay, retry backoff) and its latest attempt's start: no field records when
    /// a dependent was released, so for one its prerequisites' time counts.
    package func snapshot(limits: SnapshotLimits = SnapshotLimits()) async throws(JobqError) -> ClusterSnapshot {
        let keys = runner.keys
        let terminal = TaskState.terminal
        // 1: sizes and names.
        var first = [
            RedisCommand("TIME"),
            RedisCommand("SMEMBERS", [RedisArgument(keys.queues)]),
            RedisCommand("SMEMBERS", [RedisArgument(keys.paused)]),
            RedisCommand("ZCARD", [RedisArgument(keys.waiting)]),
            RedisCommand("ZCARD", [RedisArgument(keys.delayed)]),
            RedisCommand("ZCARD", [RedisArgument(keys.leases)]),
            RedisCommand("ZCARD", [RedisArgument(keys.workers)]),
            RedisCommand("HGETALL", [RedisArgument(keys.stats)]),
            RedisCommand("ZCARD", [RedisArgument(keys.runs)]),
            RedisCommand("ZCARD", [RedisArgument(keys.schedules)]),
            RedisCommand("HLEN", [RedisArgument(keys.limitCounts)]),
            RedisCommand("ZRANGE", [RedisArgument(keys.workers), 0, RedisArgument(max(limits.workers, 1) - 1), "WITHSCORES"]),
        ]
        first += terminal.map { RedisCommand("ZCARD", [RedisArgument(keys.ended($0))]) }
        let sizes = try await runner.pipeline(first, doing: "read metrics")
        let now = ScriptRunner.milliseconds(fromTime: sizes[0])
        let allQueues = (sizes[1].array ?? []).compactMap(\.string).sorted()
        let names = Array(allQueues.prefix(max(limits.queues, 0)))
        let paused = Set((sizes[2].array ?? []).compactMap(\.string))
        var heartbeats: [(id: String, seen: Int64)] = []
        let members = sizes[11].array ?? []
        var index = 0
        while index + 1 < members.count {
            heartbeats.append((members[index].string ?? "", Int64(members[index + 1].string ?? "") ?? now))
            index += 2
        }
        var finished: [TaskState: Int] = [:]
        for (offset, state) in terminal.enumerated() { finished[state] = sizes[12 + offset].int ?? 0 }

        // 2: due and overdue entries, priority levels, worker slots.
        let probe = max(limits.probe, 1)
        var second = [
            RedisCommand("ZCOUNT", [RedisArgument(keys.delayed), "-inf", RedisArgument(Int(now))]),
            RedisCommand("ZCOUNT", [RedisArgument(keys.leases), "-inf", RedisArgument("(\(now)")]),
        ]
        second += names.map(levelsRead)
        second += heartbeats.map { RedisCommand("HMGET", [RedisArgument(keys.worker($0.id)), "concurrency", "running"]) }
        let reads = try await runner.pipeline(second, doing: "read metrics")

        // 3: every lane's length and old end; 4 (below): the candidates' times.
        let laneKeys = try await laneSets(of: names, levels: reads[2..<(2 + names.count)]).map(\.lanes)
        let read = try await readLanes(laneKeys, of: names, probe: probe)
        let offset = 2 + names.count
        // A worker that died leaves its index entry until another one registers (which prunes
        // entries older than a registration's time to live), but its record expires: only
        // workers whose record exists count, and their heartbeats.
        var slots = 0, busy = 0, alive = 0
        var oldestSeen: Int64?
        for (worker, reply) in zip(heartbeats, reads[offset...]) {
            let fields = reply.array ?? []
            guard let concurrency = fields.first?.string else { continue }
            alive += 1
            oldestSeen = min(oldestSeen ?? worker.seen, worker.seen)
            slots += Int(concurrency) ?? 0
            busy += fields.count > 1 ? (fields[1].string ?? "").split(separator: ",").count : 0
        }
        let ages = try await oldestClaimableAges(candidates: read.map(\.candidates), now: now)

        var queues: [ClusterSnapshot.Queue] = []
        for (position, name) in names.enumerated() {
            var counts = read[position].lengths
            for lane in ClusterSnapshot.Lane.allCases where counts[lane] == nil { counts[lane] = 0 }
            queues.append(ClusterSnapshot.Queue(name: name, lanes: counts, paused: paused.contains(name), oldestAge: ages[position]))
        }
        let stats = ScriptRunner.hash(sizes[7]).mapValues { Int(String(decoding: $0, as: UTF8.self)) ?? 0 }
        return ClusterSnapshot(
            now: now, queueCount: allQueues.count, queues: queues,
            waiting: sizes[3].int ?? 0, delayed: sizes[4].int ?? 0, delayedDue: reads[0].int ?? 0,
            running: sizes[5].int ?? 0, leasesExpired: reads[1].int ?? 0, finished: finished,
            workers: alive + max((sizes[6].int ?? 0) - heartbeats.count, 0),
            oldestHeartbeatAge: oldestSeen.map { Double(max(now - $0, 0)) / 1000 } ?? 0,
            slots: slots, slotsBusy: busy,
            runs: sizes[8].int ?? 0, schedules: sizes[9].int ?? 0, limitKeys: sizes[10].int ?? 0,
            counters: stats
        )
    }
}
