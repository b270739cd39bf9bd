import JobqRedis

/// Queue latency — the age of the oldest claimable task of a queue — in one place, for the
/// metrics' snapshot (`jobq_queue_latency_seconds`) and `jobq queues` / the dashboard's queues
/// page: the queue's lanes (every priority level in use and its fair keys' lists, ``levelsRead(_:)``), the length and the
/// ids at the old end of each (``readLanes(_:of:probe:)``, one pipelined round trip), then one
/// pipelined HMGET of those ids' times (``oldestClaimableAges(candidates:now:)``).
extension Inspector {
    /// One queue's lanes as ``readLanes(_:of:probe:)`` found them.
    package struct QueueLanes: Sendable, Hashable {
        /// Ids per kind of lane; every priority lane counts as `ready`. May include stale ids.
        package var lengths: [ClusterSnapshot.Lane: Int]
        /// Per lane, in claim order, the ids at its old end, oldest first.
        package var candidates: [[String]]

        /// Ids in all its lanes.
        package var total: Int { lengths.values.reduce(0, +) }
    }

    /// The ZRANGE of `queue`'s priority levels in use (``Keyspace/levels(_:)``), for a caller to
    /// pipeline with its own reads; ``laneSets(of:levels:)`` reads its reply (fair rings included).
    package func levelsRead(_ queue: String) -> RedisCommand {
        RedisCommand("ZRANGE", [RedisArgument(runner.keys.levels(queue)), 0, -1])
    }

    /// The length and the `probe` oldest ids of every lane of each queue (`lanes[i]`, the lanes
    /// of `queues[i]`): one pipelined round trip of an LLEN and an LRANGE per lane.
    package func readLanes(_ lanes: [[String]], of queues: [String], probe: Int) async throws(JobqError) -> [QueueLanes] {
        let keys = runner.keys
        let reads = try await runner.pipeline(lanes.joined().flatMap { [RedisCommand("LLEN", [RedisArgument($0)]), Self.oldestEnd(of: $0, probe: probe)] }, doing: "read queue lanes")
        var offset = 0
        return zip(queues, lanes).map { queue, queueLanes in
            var read = QueueLanes(lengths: [:], candidates: [])
            for lane in queueLanes {
                let kind: ClusterSnapshot.Lane = lane == keys.quarantine(queue) ? .quarantine : lane == keys.recovered(queue) ? .recovered : .ready
                read.lengths[kind, default: 0] += reads[offset].int ?? 0
                read.candidates.append(Self.oldestFirst(reads[offset + 1]))
                offset += 2
            }
            return read
        }
    }

    /// The LRANGE that reads the `probe` oldest ids of `lane` (a lane is a list claims pop from
    /// its other end).
    package static func oldestEnd(of lane: String, probe: Int) -> RedisCommand {
        RedisCommand("LRANGE", [RedisArgument(lane), RedisArgument(-max(probe, 1)), -1])
    }

    /// The ids an ``oldestEnd(of:probe:)`` reply holds, oldest first.
    package static func oldestFirst(_ reply: RedisValue) -> [String] {
        (reply.array ?? []).compactMap(\.string).reversed()
    }

    /// Seconds since the oldest PENDING task among `candidates` (per queue: per lane, ids oldest
    /// first) became claimable, per queue; `nil` for a queue none of whose ids is PENDING (stale
    /// ids of tasks cancelled while queued are skipped). A queued task counts as claimable since
    /// the latest of its submission, its `run_after` (delay, retry backoff) and its latest
    /// attempt's start: no field records when a dependent was released, so for one its
    /// prerequisites' time counts. One pipelined round trip.
    package func oldestClaimableAges(candidates: [[[String]]], now: Int64) async throws(JobqError) -> [Double?] {
        let keys = runner.keys
        let ids = candidates.flatMap { $0.flatMap { $0 } }
        guard !ids.isEmpty else { return candidates.map { _ in nil } }
        let records = try await runner.pipeline(
            ids.map { RedisCommand("HMGET", [RedisArgument(keys.task($0)), "state", "created", "run_after", "started"]) },
            doing: "read queue latency"
        )
        var since: [String: Int64] = [:]
        for (id, reply) in zip(ids, records) {
            let fields = (reply.array ?? []).map { $0.string }
            guard fields.count == 4, fields[0] == TaskState.pending.rawValue else { continue }
            since[id] = fields[1...].compactMap { $0.flatMap { Int64($0) } }.max() ?? now
        }
        return candidates.map { lanes in
            // the oldest PENDING id of each lane: the first from its old end
            let oldest = lanes.compactMap { lane in lane.lazy.compactMap { since[$0] }.first }.min()
            return oldest.map { Double(max(now - $0, 0)) / 1000 }
        }
    }
}
