import JobqRedis

/// Reads: no state changes, so plain commands (pipelined) rather than scripts.
extension TaskStore {
    /// The task record, or `nil` when there is none (never existed, or retention expired).
    package func task(_ id: String) async throws(JobqError) -> TaskInfo? {
        try Validation.check(taskID: id)
        return try await tasks([id]).first ?? nil
    }

    /// Task records for `ids`, in order (`nil` for missing ones), in one round trip.
    package func tasks(_ ids: [String]) async throws(JobqError) -> [TaskInfo?] {
        guard !ids.isEmpty else { return [] }
        var commands: [RedisCommand] = []
        commands.reserveCapacity(ids.count * 2)
        for id in ids {
            commands.append(RedisCommand("HGETALL", [RedisArgument(runner.keys.task(id))]))
            commands.append(RedisCommand("HGETALL", [RedisArgument(runner.keys.prerequisites(id))]))
        }
        // An error reply (e.g. NOPERM) throws: it is never read as "no such task".
        let replies = try await runner.pipeline(commands, doing: "read tasks")
        var infos: [TaskInfo?] = []
        infos.reserveCapacity(ids.count)
        for index in ids.indices {
            let fields = ScriptRunner.hash(replies[2 * index])
            let prerequisites = ScriptRunner.hash(replies[2 * index + 1])
                .map { Prerequisite($0.key, policy: DependencyPolicy(rawValue: String(decoding: $0.value, as: UTF8.self)) ?? .success) }
                .sorted { $0.id < $1.id }
            infos.append(TaskInfo(id: ids[index], fields: fields, prerequisites: prerequisites))
        }
        return infos
    }

    /// The queue of each task in `ids` that has a record, read from its packed `spec` (one HGET
    /// per task, pipelined): the queue is not in the event lines, and `jobq events --queue` asks
    /// for a page of them at a time. Tasks without a record (expired, purged) or with an
    /// unreadable spec are absent from the result.
    package func queues(of ids: [String]) async throws(JobqError) -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        let replies = try await runner.pipeline(ids.map { RedisCommand("HGET", [RedisArgument(runner.keys.task($0)), "spec"]) }, doing: "read task queues")
        var queues: [String: String] = [:]
        for (id, reply) in zip(ids, replies) {
            if let spec = reply.string.flatMap(PackedSpec.init) { queues[id] = spec.queue }
        }
        return queues
    }

    /// Ids of tasks in `state`, at most `limit`.
    ///
    /// RUNNING comes from the lease index (soonest deadline first); terminal states from their
    /// retention indexes (oldest first); PENDING from the ready lists, the delayed set and the
    /// set of tasks waiting for prerequisites (ready lists may hold stale ids: callers that
    /// need the exact state read the records).
    package func taskIDs(in state: TaskState, limit: Int = 100) async throws(JobqError) -> [String] {
        let last = RedisArgument(max(limit, 1) - 1)
        switch state {
        case .running:
            return try await strings(RedisCommand("ZRANGE", [RedisArgument(runner.keys.leases), 0, last]), doing: "list tasks")
        case .done, .skipped, .failed, .cancelled:
            return try await strings(RedisCommand("ZRANGE", [RedisArgument(runner.keys.ended(state)), 0, last]), doing: "list tasks")
        case .pending:
            var ids: [String] = []
            var seen = Set<String>()
            // In the order claims take them: each queue's lanes, the head (right end) first.
            let inspector = Inspector(runner: runner)
            for lanes in try await inspector.lanes(of: inspector.queues().map(\.name)) {
                for lane in lanes {
                    for id in try await strings(RedisCommand("LRANGE", [RedisArgument(lane), RedisArgument(-limit), -1]), doing: "list tasks").reversed()
                    where seen.insert(id).inserted {
                        ids.append(id)
                    }
                }
            }
            for key in [runner.keys.delayed, runner.keys.waiting] {
                for id in try await strings(RedisCommand("ZRANGE", [RedisArgument(key), 0, last]), doing: "list tasks") where seen.insert(id).inserted {
                    ids.append(id)
                }
            }
            return Array(ids.prefix(limit))
        }
    }

    /// A workflow's task ids in submission order.
    package func taskIDs(inWorkflow workflow: String) async throws(JobqError) -> [String] {
        try Validation.check(name: workflow, as: .workflow)
        return try await strings(RedisCommand("ZRANGE", [RedisArgument(runner.keys.workflowTasks(workflow)), 0, -1]), doing: "list workflow")
    }

    /// Whether a workflow has tasks: one ZCARD, not a read of every task's state.
    package func workflowExists(_ workflow: String) async throws(JobqError) -> Bool {
        try Validation.check(name: workflow, as: .workflow)
        let reply = try await runner.send(RedisCommand("ZCARD", [RedisArgument(runner.keys.workflowTasks(workflow))]), doing: "look up workflow")
        return (reply.int ?? 0) > 0
    }

    /// Counts per state of a workflow's tasks; `nil` when the workflow is unknown.
    package func summary(workflow: String) async throws(JobqError) -> WorkflowSummary? {
        let ids = try await taskIDs(inWorkflow: workflow)
        guard !ids.isEmpty else { return nil }
        let states = try await taskStates(ids)
        var counts: [TaskState: Int] = [:]
        for state in states { if let state { counts[state, default: 0] += 1 } }
        return WorkflowSummary(workflow: workflow, counts: counts)
    }

    /// Just the states of `ids`, pipelined (HGET each).
    package func taskStates(_ ids: [String]) async throws(JobqError) -> [TaskState?] {
        let commands = ids.map { RedisCommand("HGET", [RedisArgument(runner.keys.task($0)), "state"]) }
        return try await runner.pipeline(commands, doing: "read states").map { $0.string.flatMap(TaskState.init(rawValue:)) }
    }

    private func strings(_ command: RedisCommand, doing what: String) async throws(JobqError) -> [String] {
        (try await runner.send(command, doing: what).array ?? []).compactMap(\.string)
    }
}
