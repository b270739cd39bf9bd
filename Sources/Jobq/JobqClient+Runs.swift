import JobqCore

/// Workflow runs: reading them, and acting on a whole run.
extension JobqClient {
    /// The run's record. Throws `not_found`.
    public func run(_ id: String) async throws(JobqError) -> RunInfo {
        guard let info = try await engine.tasks.run(id) else {
            throw JobqError(.notFound, "no run \(id) (never submitted, or its retention expired); list runs with: jobq runs", subject: id)
        }
        return info
    }

    /// A handle on an existing run. Throws `not_found`.
    public func workflowRun(_ id: String) async throws(JobqError) -> WorkflowRun {
        _ = try await run(id)
        return WorkflowRun(client: self, id: id, created: false, tasks: [])
    }

    /// One page of runs, newest first, filtered server-side by definition and state; and, when
    /// given, by queue (one of the run's tasks was submitted to it, in any of its submit calls;
    /// runs submitted before jobq recorded a run's queues are not found) and submission time
    /// (Redis ms, inclusive). A page may hold fewer than `limit` runs while its `next` is set.
    public func runs(
        definition: String? = nil, state: RunState? = nil, queue: String? = nil,
        submittedSince since: Int64? = nil, submittedUntil until: Int64? = nil,
        after cursor: RunCursor? = nil, limit: Int = 50
    ) async throws(JobqError) -> RunPage {
        try await engine.tasks.runs(definition: definition, state: state, filter: RunFilter(queue: queue, since: since, until: until), after: cursor, limit: limit)
    }

    /// The run's tasks, in submission order (read in pages of 500).
    public func tasks(ofRun id: String) async throws(JobqError) -> [TaskInfo] {
        let ids = try await taskIDs(inWorkflow: id)
        var infos: [TaskInfo] = []
        infos.reserveCapacity(ids.count)
        for start in stride(from: 0, to: ids.count, by: 500) {
            infos += try await tasks(Array(ids[start..<min(start + 500, ids.count)])).compactMap { $0 }
        }
        return infos
    }

    /// Returns the run once it has ended. Throws `timeout`, `not_found`.
    public func wait(forRun id: String, timeout: Duration? = nil) async throws(JobqError) -> RunInfo {
        let marker = "@" + id
        let outcome = try await follow(
            timeout: timeout,
            load: { () throws(JobqError) -> RunInfo in try await run(id) },
            isFinished: { $0.state.isTerminal },
            concerns: { _, touched in touched.contains(marker) }
        )
        switch outcome {
        case .finished(let info): return info
        case .timedOut(let info):
            throw JobqError(.timeout, "gave up waiting for run \(id) after \(DurationText.format(timeout ?? .zero)) (\(info.summary) = \(info.total))", subject: id)
        }
    }

    /// Re-opens every FAILED or CANCELLED task of the run and the dependents they took down
    /// (each root in one atomic retry, in submission order). Returns the ids re-opened.
    @discardableResult
    public func retry(run id: String, actor: String? = nil) async throws(JobqError) -> [String] {
        _ = try await run(id)
        return try await engine.tasks.retry(run: id, actor: actor.flatMap(ActorName.clean))
    }

    /// Re-opens, in place, the run's OUTDATED tasks (DONE before a prerequisite ended again) and
    /// every task of the run that depends on them; nothing else. The run must have ended; it is
    /// RUNNING again. Returns the ids re-opened (empty when nothing is outdated).
    @discardableResult
    public func rerunOutdated(run id: String) async throws(JobqError) -> [String] {
        _ = try await run(id)
        return try await engine.tasks.rerunOutdated(run: id)
    }

    /// Starts a new run of the same definition, tasks, payloads and options as run `id`
    /// (read back from its task records). Returns the new run.
    @discardableResult
    public func rerun(_ id: String, as newID: String? = nil) async throws(JobqError) -> WorkflowRun {
        let info = try await run(id)
        let tasks = try await tasks(ofRun: id)
        guard !tasks.isEmpty else { throw JobqError(.notFound, "run \(id) has no tasks left to copy (their retention expired)", subject: id) }
        let specs = tasks.map { task in
            var spec = TaskSpec(
                id: RunScope.key(of: task.id), handler: task.handler, queue: task.queue, payload: task.payload,
                prerequisites: task.prerequisites.map { prerequisite in
                    RunScope.run(of: prerequisite.id) == id ? Prerequisite(RunScope.key(of: prerequisite.id), policy: prerequisite.policy) : prerequisite
                },
                maxAttempts: task.maxAttempts, backoff: task.backoff ?? .default, timeout: task.timeout,
                resultTTL: task.resultTTL, title: task.title,
                cacheKey: task.cacheKey.flatMap { try? CacheKey($0) }, maxSnoozes: task.maxSnoozes,
                // the expanded key: a plain name, a literal template
                concurrency: task.concurrencyKey.map { ConcurrencyLimit(key: $0, limit: task.concurrencyLimit ?? 1) },
                priority: task.priority
            )
            spec.rate = task.rate // (its key expanded: a literal)
            spec.fairKey = task.fairKey // (likewise)
            spec.service = task.service
            return spec
        }
        return try await submit(specs, run: RunOptions(id: newID, definition: info.definition, window: info.options["window"].flatMap { Int($0) },
            failFast: info.options["fail_fast"] == "1",
            critical: Set((info.options["critical"] ?? "").split(separator: " ").map(String.init))))
    }
}
