import JobqRedis

/// Reading runs: one record each (``RunInfo``), and pages of the run indexes.
extension TaskStore {
    /// The run's record; `nil` when there is no such run (never submitted, or its retention
    /// expired with its last task).
    package func run(_ id: String) async throws(JobqError) -> RunInfo? {
        try Validation.check(name: id, as: .run)
        let reply = try await runner.send(RedisCommand("HGETALL", [RedisArgument(runner.keys.workflow(id))]), doing: "read run")
        let items = (reply.array ?? []).compactMap(\.string)
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) { fields[items[index]] = items[index + 1] }
        return RunInfo(id: id, fields: fields)
    }

    /// Re-opens every FAILED task of run `id`, and every task cancelled for a reason of its own
    /// (not because a prerequisite failed: those come back with their prerequisite), each root
    /// in one atomic retry, in submission order. Returns the ids re-opened.
    package func retry(run id: String, actor: String? = nil) async throws(JobqError) -> [String] {
        let ids = try await taskIDs(inWorkflow: id)
        var reopened: [String] = []
        var seen = Set<String>()
        for start in stride(from: 0, to: ids.count, by: 500) {
            for task in try await tasks(Array(ids[start..<min(start + 500, ids.count)])).compactMap({ $0 }) where !seen.contains(task.id) {
                guard task.state == .failed || (task.state == .cancelled && task.reason != "dependency_failed") else { continue }
                do {
                    let again = try await retry(task: task.id, actor: actor)
                    reopened += again
                    seen.formUnion(again)
                } catch where error.code == .invalidState || error.code == .prerequisiteFailed {
                    continue // re-opened meanwhile, or waits for a prerequisite re-opened later
                }
            }
        }
        return reopened
    }

    /// One page of runs, newest first; `definition`, `state` and `queue` (runs one of whose tasks
    /// was submitted to it: the `q:<queue>:runs` index) filter server-side. Each call looks at a
    /// bounded number of index entries, so a page may hold fewer than `limit` runs while
    /// ``RunPage/next`` is still set.
    package func runs(definition: String? = nil, state: RunState? = nil, queue: String? = nil, after cursor: RunCursor? = nil, limit: Int = 50) async throws(JobqError) -> RunPage {
        if let definition { try Validation.check(name: definition, as: .workflow) }
        if let queue { try Validation.check(name: queue, as: .queue) }
        guard (1...1000).contains(limit) else { throw JobqError(.invalidOption, "a page of runs holds 1 to 1000 runs; got \(limit)") }
        return try await runner.run(RunsCall(definition: definition, state: state, queue: queue, cursor: cursor, limit: limit))
    }
}
