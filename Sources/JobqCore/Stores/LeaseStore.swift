import JobqRedis

extension LeaseStore {
    /// Claims up to `count` dispatchable tasks from `queues`, in the order given, as a busy
    /// worker would (never a quarantined suspect; see ``claimBatch(queues:count:lease:worker:idle:)``).
    package func claim(queues: [String], count: Int, lease: Duration, worker: String) async throws(JobqError) -> [ClaimedTask] {
        try await claimBatch(queues: queues, count: count, lease: lease, worker: worker, idle: false).tasks
    }

    /// Claims as a worker does: `idle` says it runs no handler now, so it may be given one
    /// quarantined suspect to run alone (mode `.alone`); a busy worker may be told to drain
    /// (mode `.drain`, no tasks) so that it becomes idle for one.
    package func claimBatch(queues: [String], count: Int, lease: Duration, worker: String, idle: Bool) async throws(JobqError) -> ClaimBatch {
        guard !queues.isEmpty else { return ClaimBatch(tasks: []) }
        guard count >= 1 else { throw JobqError(.invalidOption, "claim count must be at least 1") }
        return try await runner.run(ClaimCall(worker: worker, lease: lease, count: count, idle: idle, queues: queues))
    }

    /// Extends the leases of `leases`. The answer for each says whether its task was cancelled.
    package func heartbeat(_ leases: [TaskLease], lease: Duration, worker: String) async throws(JobqError) -> [LeaseWriteOutcome] {
        guard !leases.isEmpty else { return [] }
        return try await runner.run(HeartbeatCall(worker: worker, lease: lease, leases: leases))
    }

    /// Records successful runs (RUNNING → DONE) in one script call.
    package func complete(_ completions: [Completion]) async throws(JobqError) -> [LeaseWriteOutcome] {
        try await completeBatch(completions).outcomes
    }

    /// ``complete(_:)``, also saying whether the call left a cascade to continue
    /// (``continueCascades()``): what a worker uses.
    package func completeBatch(_ completions: [Completion]) async throws(JobqError) -> LeaseWriteBatch {
        guard !completions.isEmpty else { return LeaseWriteBatch(outcomes: []) }
        return try await runner.run(CompleteCall(completions: completions))
    }

    /// Records unsuccessful runs in one script call.
    package func fail(_ failures: [Failure]) async throws(JobqError) -> [LeaseWriteOutcome] {
        try await failBatch(failures).outcomes
    }

    /// ``fail(_:)``, also saying whether the call left a cascade to continue.
    package func failBatch(_ failures: [Failure]) async throws(JobqError) -> LeaseWriteBatch {
        guard !failures.isEmpty else { return LeaseWriteBatch(outcomes: []) }
        return try await runner.run(FailCall(failures: failures))
    }

    /// Settles what cascades are left on the settle list, in bounded calls, until it is empty:
    /// the dependents a large fan-out or a failed chain did not reach in the call that ended
    /// their prerequisite.
    package func continueCascades() async throws(JobqError) {
        try await runner.settleAll()
    }

    /// Most log lines kept per task; older ones are dropped.
    package static let logLinesKept = 1000

    /// Records progress entries and appends log lines for a running task, in one fenced script.
    @discardableResult
    package func report(_ lease: TaskLease, progress: [ProgressEntry] = [], log lines: [String] = []) async throws(JobqError) -> LeaseWriteOutcome {
        guard !progress.isEmpty || !lines.isEmpty else { return .extended }
        return try await runner.run(ProgressCall(lease: lease, logCap: Self.logLinesKept, entries: progress, lines: lines))
    }

    /// Blocks (on a blocking lane) until a cancellation is requested for a task `worker` runs,
    /// or `timeout` passes. Returns the ids (empty on timeout). The heartbeat reply stays the
    /// truth; this only tells the worker to look now.
    package func waitForControl(worker: String, timeout: Duration) async throws(JobqError) -> [String] {
        let reply = try await runner.sendBlocking(
            RedisCommand("BLPOP", [RedisArgument(runner.keys.control(worker)), RedisArgument(max(Double(timeout.jobqMilliseconds) / 1000, 0.01))]),
            timeout: timeout, doing: "wait for control"
        )
        // One id per call: the next call returns at once while more are queued.
        return reply.array?.last?.string.map { [$0] } ?? []
    }

    /// Blocks (on the client's blocking lane, never the cooperative pool) until work may be
    /// waiting on one of `queues`, or `timeout` passes. Returns whether a wake-up arrived.
    package func waitForWork(queues: [String], timeout: Duration) async throws(JobqError) -> Bool {
        guard !queues.isEmpty else { return false }
        var arguments = queues.map { RedisArgument(runner.keys.wake($0)) }
        arguments.append(RedisArgument(max(Double(timeout.jobqMilliseconds) / 1000, 0.01)))
        let reply = try await runner.sendBlocking(RedisCommand("BLPOP", arguments), timeout: timeout, doing: "wait for work")
        return !reply.isNull
    }

    /// Publishes `worker`'s self-description; it disappears `ttl` after the last call.
    package func register(worker: WorkerInfo, ttl: Duration) async throws(JobqError) {
        let keys = runner.keys
        let key = RedisArgument(keys.worker(worker.id))
        let now = Int(try await runner.serverTime())
        var fields: [RedisArgument] = [
            key, "host", RedisArgument(worker.host), "pid", RedisArgument(worker.pid),
            "queues", RedisArgument(worker.queues.joined(separator: ",")),
            "concurrency", RedisArgument(worker.concurrency), "running", RedisArgument(worker.running.joined(separator: ",")),
        ]
        // how often it beats: what `jobq workers` measures its silence against
        if let beat = worker.heartbeatMilliseconds { fields += ["heartbeat_ms", RedisArgument(Int(beat))] }
        // when each running task passes its timeout: what lets `jobq workers` flag overdue tasks
        // without reading every running task's record (WorkerInfo.deadlines)
        var forget: [RedisCommand] = []
        if let deadlines = worker.deadlines {
            fields += ["deadlines", RedisArgument(WorkerInfo.encode(deadlines: deadlines, of: worker.running))]
        } else {
            forget.append(RedisCommand("HDEL", [key, "deadlines"]))
        }
        _ = try await runner.pipeline(forget + [
            RedisCommand("HSET", fields),
            RedisCommand("PEXPIRE", [key, RedisArgument(Int(ttl.jobqMilliseconds))]),
            RedisCommand("ZADD", [RedisArgument(keys.workers), RedisArgument(now), RedisArgument(worker.id)]),
            RedisCommand("ZREMRANGEBYSCORE", [RedisArgument(keys.workers), "-inf", RedisArgument(now - Int(ttl.jobqMilliseconds))]),
        ], doing: "register worker")
    }

    /// Removes a stopping worker from the registry.
    package func unregister(worker id: String) async throws(JobqError) {
        _ = try await runner.pipeline([
            RedisCommand("DEL", [RedisArgument(runner.keys.worker(id))]),
            RedisCommand("ZREM", [RedisArgument(runner.keys.workers), RedisArgument(id)]),
        ], doing: "unregister worker")
    }
}
