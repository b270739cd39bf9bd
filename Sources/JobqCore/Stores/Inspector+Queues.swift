import JobqRedis

/// Queues and workers: operational state that is not a task transition, so plain reads.
extension Inspector {
    /// Every queue ever used, with its ready count, pause flag and the age of its oldest
    /// claimable task (``oldestClaimableAges(candidates:now:)``, as the metrics compute it).
    package func queues() async throws(JobqError) -> [QueueInfo] {
        let keys = runner.keys
        let sets = try await runner.pipeline([
            RedisCommand("SMEMBERS", [RedisArgument(keys.queues)]),
            RedisCommand("SMEMBERS", [RedisArgument(keys.paused)]),
            RedisCommand("TIME"),
        ], doing: "list queues")
        let names = (sets[0].array ?? []).compactMap(\.string).sorted()
        let paused = Set((sets[1].array ?? []).compactMap(\.string))
        let now = ScriptRunner.milliseconds(fromTime: sets[2])
        // Every lane of a queue counts as ready (recovered and quarantined work included, and
        // every priority in use).
        let laneSets = try await laneSets(of: names)
        let read = try await readLanes(laneSets.map(\.lanes), of: names, probe: SnapshotLimits().probe)
        let ages = try await oldestClaimableAges(candidates: read.map(\.candidates), now: now)
        let ready = read.map(\.total)
        return names.indices.map { index in
            QueueInfo(name: names[index], ready: ready[index], paused: paused.contains(names[index]), oldestAge: ages[index], fairKeys: laneSets[index].fairKeys)
        }
    }

    /// Every list each queue's dispatchable ids wait in (``Keyspace/lanes(_:priorities:)``), in
    /// claim order: one pipelined ZRANGE of the queues' priority levels in use (and, for a queue
    /// with fair keys, one more pipelined read of its rings).
    package func lanes(of queues: [String]) async throws(JobqError) -> [[String]] {
        try await laneSets(of: queues).map(\.lanes)
    }

    /// A ring's keys read per queue and priority: the lists of keys beyond are not counted in a
    /// queue's depth (its fair key count, from the ring's length, is exact).
    package static let fairKeysRead = 200

    /// ``lanes(of:)`` with each queue's number of fair keys with ready tasks
    /// (``Keyspace/fairRing(_:priority:)``; the lists of the first ``fairKeysRead`` keys of each
    /// ring are among the lanes, before the plain list of their priority, as claims take them).
    package func laneSets(of queues: [String]) async throws(JobqError) -> [(lanes: [String], fairKeys: Int)] {
        guard !queues.isEmpty else { return [] }
        let levels = try await runner.pipeline(queues.map(levelsRead), doing: "read priority levels")
        return try await laneSets(of: queues, levels: levels)
    }

    /// ``laneSets(of:)`` given the replies of each queue's ``levelsRead(_:)`` (pipelined by the
    /// caller with its own reads): one more round trip only when some queue has fair keys.
    package func laneSets(of queues: [String], levels: some Collection<RedisValue>) async throws(JobqError) -> [(lanes: [String], fairKeys: Int)] {
        let keys = runner.keys
        var rings: [(queue: Int, priority: Int)] = []
        var priorities: [[Int]] = []
        for (index, reply) in levels.enumerated() {
            let members = (reply.array ?? []).compactMap(\.string)
            priorities.append(members.compactMap { Int($0) })
            for member in members where member.hasPrefix("f") {
                if let priority = Int(member.dropFirst()) { rings.append((index, priority)) }
            }
        }
        let reads = rings.isEmpty ? [] : try await runner.pipeline(rings.flatMap { ring in [
            RedisCommand("LLEN", [RedisArgument(keys.fairRing(queues[ring.queue], priority: ring.priority))]),
            RedisCommand("LRANGE", [RedisArgument(keys.fairRing(queues[ring.queue], priority: ring.priority)), 0, RedisArgument(Self.fairKeysRead)]),
        ] }, doing: "read fair rings")
        var fairLists = Array(repeating: [Int: [String]](), count: queues.count)
        var fairKeys = Array(repeating: 0, count: queues.count)
        for (offset, ring) in rings.enumerated() {
            let members = (reads[2 * offset + 1].array ?? []).compactMap(\.string).filter { !$0.isEmpty }
            // (the member '' is the plain list's turn, not a key)
            fairKeys[ring.queue] += max((reads[2 * offset].int ?? 0) - 1, members.count)
            fairLists[ring.queue][ring.priority] = members.prefix(Self.fairKeysRead).map { keys.fairLane(queues[ring.queue], priority: ring.priority, key: $0) }
        }
        return queues.indices.map { index in
            let queue = queues[index]
            var lanes = [keys.quarantine(queue), keys.recovered(queue)]
            for priority in Set(priorities[index] + [0] + fairLists[index].keys).sorted(by: >) {
                lanes += fairLists[index][priority] ?? []
                lanes.append(keys.ready(queue, priority: priority))
            }
            return (lanes, fairKeys[index])
        }
    }

    /// Workers seen alive, most recent first, each with the tasks it runs past their timeout
    /// (``overdue(running:deadlines:lastSeen:now:)``, the rule `jobq workers`, `jobq doctor` and the
    /// dashboard share). Two pipelined round trips (the index and the time, then every worker's
    /// record) whatever runs; a third reads the records of the few tasks whose timeout passed
    /// since their worker's last registration (and of every task of a worker that registers
    /// no deadlines), never one per running task.
    package func workers() async throws(JobqError) -> [WorkerInfo] {
        let keys = runner.keys
        let first = try await runner.pipeline([
            RedisCommand("TIME"), RedisCommand("ZREVRANGE", [RedisArgument(keys.workers), 0, -1, "WITHSCORES"]),
        ], doing: "list workers")
        let now = ScriptRunner.milliseconds(fromTime: first[0])
        let members = first[1].array ?? []
        var ids: [(String, Int64)] = []
        var index = 0
        while index + 1 < members.count {
            ids.append((members[index].string ?? "", Int64(members[index + 1].string ?? "") ?? 0))
            index += 2
        }
        let hashes = try await runner.pipeline(ids.map { RedisCommand("HGETALL", [RedisArgument(keys.worker($0.0))]) }, doing: "list workers")
        var workers: [WorkerInfo] = zip(ids, hashes).compactMap { entry, reply in
            let fields = ScriptRunner.hash(reply).mapValues { String(decoding: $0, as: UTF8.self) }
            guard !fields.isEmpty else { return nil }
            let running = (fields["running"] ?? "").split(separator: ",").map(String.init)
            return WorkerInfo(
                id: entry.0, host: fields["host"] ?? "", pid: Int(fields["pid"] ?? "") ?? 0,
                queues: (fields["queues"] ?? "").split(separator: ",").map(String.init),
                concurrency: Int(fields["concurrency"] ?? "") ?? 0,
                running: running, lastSeen: entry.1,
                heartbeatMilliseconds: fields["heartbeat_ms"].flatMap { Int64($0) },
                deadlines: WorkerInfo.decode(deadlines: fields["deadlines"], of: running)
            )
        }
        let verdicts = workers.map { Self.overdue(running: $0.running, deadlines: $0.deadlines, lastSeen: $0.lastSeen, now: now) }
        let unsure = verdicts.flatMap { $0.unsure }
        var confirmed = Set<String>()
        if !unsure.isEmpty {
            let reads = try await runner.pipeline(unsure.map { RedisCommand("HMGET", [RedisArgument(keys.task($0)), "state", "started", "spec"]) }, doing: "list workers")
            for (id, reply) in zip(unsure, reads) where Self.isOverdue(record: reply, now: now) { confirmed.insert(id) }
        }
        for index in workers.indices {
            let verdict = verdicts[index]
            workers[index].overdue = workers[index].running.filter { verdict.overdue.contains($0) || confirmed.contains($0) }
        }
        return workers
    }

    /// A worker's running tasks sorted by what is known of their timeout at Redis time `now`:
    /// `overdue`, those whose deadline (``WorkerInfo/deadlines``) had passed when the worker last
    /// registered at `lastSeen` and still listed them as running (it said so itself); `unsure`,
    /// those whose deadline passed since then (they may have ended meanwhile: their record
    /// decides, ``isOverdue(record:now:)``), or every one when the worker registered no
    /// deadlines. A task without a timeout, or whose deadline is ahead, is neither.
    package static func overdue(running: [String], deadlines: [String: Int64]?, lastSeen: Int64, now: Int64) -> (overdue: Set<String>, unsure: [String]) {
        guard let deadlines else { return ([], running) }
        var overdue = Set<String>()
        var unsure: [String] = []
        for id in running {
            guard let deadline = deadlines[id], deadline < now else { continue }
            if deadline < lastSeen { overdue.insert(id) } else { unsure.append(id) }
        }
        return (overdue, unsure)
    }

    /// Whether the reply of `HMGET t:<id> state started spec` is a task RUNNING past its timeout
    /// at Redis time `now` (a task without a timeout never is).
    package static func isOverdue(record reply: RedisValue, now: Int64) -> Bool {
        let fields = reply.array ?? []
        guard fields.count == 3, fields[0].string == TaskState.running.rawValue,
              let started = fields[1].string.flatMap({ Int64($0) }),
              let spec = fields[2].bytes.flatMap(PackedSpec.init), spec.timeoutMilliseconds > 0 else { return false }
        return now - started > spec.timeoutMilliseconds
    }
}
