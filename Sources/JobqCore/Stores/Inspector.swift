import JobqRedis

/// Namespace-wide figures for `jobq stats`: plain reads, pipelined, no state changes.
extension Inspector {
    /// Sizes of the indexes, in two round trips.
    package func overview() async throws(JobqError) -> NamespaceOverview {
        let keys = runner.keys
        let terminal = TaskState.terminal
        let queueNames = try await queues().map(\.name)
        var commands = [
            RedisCommand("ZCARD", [RedisArgument(keys.waiting)]),
            RedisCommand("ZCARD", [RedisArgument(keys.delayed)]),
            RedisCommand("ZCARD", [RedisArgument(keys.leases)]),
            RedisCommand("ZCARD", [RedisArgument(keys.workers)]),
            RedisCommand("TIME"),
        ]
        commands += terminal.map { RedisCommand("ZCARD", [RedisArgument(keys.ended($0))]) }
        commands += try await lanes(of: queueNames).joined().map { RedisCommand("LLEN", [RedisArgument($0)]) }
        let replies = try await runner.pipeline(commands, doing: "read overview")
        var finished: [TaskState: Int] = [:]
        for (offset, state) in terminal.enumerated() { finished[state] = replies[5 + offset].int ?? 0 }
        let ready = replies[(5 + terminal.count)...].reduce(0) { $0 + ($1.int ?? 0) }
        return NamespaceOverview(
            waiting: replies[0].int ?? 0, delayed: replies[1].int ?? 0, ready: ready, running: replies[2].int ?? 0,
            finished: finished, workers: replies[3].int ?? 0, now: ScriptRunner.milliseconds(fromTime: replies[4])
        )
    }

    /// RUNNING tasks, fleet-wide (the size of the lease index): one command, for the worker's
    /// drain check, which asks it on every idle round.
    package func runningCount() async throws(JobqError) -> Int {
        try await runner.send(RedisCommand("ZCARD", [RedisArgument(runner.keys.leases)]), doing: "count running tasks").int ?? 0
    }

    /// Redis server time in milliseconds (for ages that do not depend on the local clock).
    package func serverTime() async throws(JobqError) -> Int64 {
        try await runner.serverTime()
    }

    /// Counters since the namespace was created.
    package func stats() async throws(JobqError) -> [String: Int] {
        let reply = try await runner.send(RedisCommand("HGETALL", [RedisArgument(runner.keys.stats)]), doing: "read stats")
        return ScriptRunner.hash(reply).mapValues { Int(String(decoding: $0, as: UTF8.self)) ?? 0 }
    }

    /// Every id in a terminal state's index (finished tasks still kept), read in pages.
    package func finishedTaskIDs(in state: TaskState, pageSize: Int = 5000) async throws(JobqError) -> [String] {
        guard state.isTerminal else { return [] }
        var ids: [String] = []
        var offset = 0
        while true {
            let reply = try await runner.send(RedisCommand("ZRANGE", [
                RedisArgument(runner.keys.ended(state)), RedisArgument(offset), RedisArgument(offset + pageSize - 1),
            ]), doing: "list finished tasks")
            let page = (reply.array ?? []).compactMap(\.string)
            ids += page
            if page.count < pageSize { return ids }
            offset += pageSize
        }
    }
}
