import JobqRedis

/// submit.lua: create one task, a whole run, or tasks labelled with a workflow, atomically.
package struct SubmitCall: ScriptCall {
    package static var script: RedisScript { Scripts.submit }

    /// One task as the script takes it: its id is decided (given or generated) by the caller.
    package struct Item: Sendable {
        package var id: String
        package var spec: TaskSpec
        /// `N KEY`, the concurrency limit with its key expanded, or `''` (TaskStore.submit).
        package var limit: String = ""
        /// `MODE MS KEY`, the uniqueness with its key expanded, or `''` (TaskStore.submit).
        package var unique: String = ""
        /// The producer's trace context (``TraceCarrier/encode(_:)``), or `''`.
        package var trace: String = ""
        /// `N INTERVAL_MS KEY`, the rate limit with its key expanded, or `''` (TaskStore.submit).
        package var rate: String = ""
        /// The fair key expanded (``FairKey``), or `''`: sent with the priority as `P KEY`.
        package var fair: String = ""
    }

    package var items: [Item]
    /// The run's id when ``run`` is set (a new run), else an optional workflow label.
    package var workflow: String?
    /// A new run: its definition and options (its id is ``workflow``).
    package var run: RunOptions?
    package var idempotencyKey: String?
    package var fingerprint: String
    package var idempotencyWindow: Duration
    /// One of several calls that submit one run (TaskStore.submitInChunks); `nil`: the whole
    /// submission in this call.
    package var chunk: SubmitChunk? = nil
    /// The keys of the run's service tasks (``TaskSpec/service``), stored in the run record.
    package var services: [String] = []

    /// One standalone task and nothing else: the call a one-task submit sends (the benchmarks
    /// replay it with redis-benchmark).
    package static func oneTask(_ spec: TaskSpec, id: String, idempotencyWindow: Duration) -> SubmitCall {
        SubmitCall(items: [Item(id: id, spec: spec)], idempotencyKey: nil, fingerprint: "", idempotencyWindow: idempotencyWindow)
    }

    package var arguments: [RedisArgument] {
        var arguments: [RedisArgument] = [
            RedisArgument(idempotencyKey ?? ""), RedisArgument(fingerprint), RedisArgument(workflow ?? ""),
            RedisArgument(Int(idempotencyWindow.jobqMilliseconds)), RedisArgument(run?.definition ?? ""),
        ]
        var options = chunk == nil || chunk == .first ? run?.recordFields ?? [] : []
        if chunk == nil || chunk == .first, !services.isEmpty { options.append((.services, " " + services.joined(separator: " ") + " ")) }
        if let chunk { options.append((.building, chunk.rawValue)) }
        arguments.append(RedisArgument(options.count))
        for (field, value) in options { arguments += [RedisArgument(field.rawValue), RedisArgument(value)] }
        arguments.append(RedisArgument(items.count))
        arguments.reserveCapacity(arguments.count + items.count * 20)
        for item in items {
            let spec = item.spec
            arguments += [
                RedisArgument(item.id), RedisArgument(spec.handler), RedisArgument(spec.queue),
                RedisArgument(bytes: spec.payload), RedisArgument(spec.maxAttempts),
                RedisArgument(Int(spec.timeout.jobqMilliseconds)), RedisArgument(bytes: spec.backoff.encodedJSON),
                RedisArgument(Int(spec.delay.jobqMilliseconds)), RedisArgument(Int(spec.resultTTL.jobqMilliseconds)),
                RedisArgument(spec.title), RedisArgument(spec.precondition?.compiledJSON ?? ""), RedisArgument(spec.cacheKey?.template ?? ""),
                RedisArgument(spec.expires?.scriptArgument ?? ""),
                RedisArgument(spec.maxSnoozes == TaskSpec.defaultMaxSnoozes ? "" : String(spec.maxSnoozes)),
                RedisArgument(item.limit),
                RedisArgument(spec.waitFor?.scriptArgument ?? ""),
                RedisArgument(item.unique),
                RedisArgument(!item.fair.isEmpty ? "\(spec.priority) \(item.fair)" : spec.priority == TaskSpec.defaultPriority ? "" : String(spec.priority)),
                RedisArgument(item.trace),
                RedisArgument(item.rate),
                RedisArgument(spec.prerequisites.count),
            ]
            for prerequisite in spec.prerequisites {
                arguments += [RedisArgument(prerequisite.id), RedisArgument(prerequisite.policy.rawValue)]
            }
        }
        return arguments
    }

    /// `{1, outcome, run, (id, state)...}` (outcome ``SubmitOutcome``); a replayed submission whose
    /// task expired answers `EXPIRED` for its state (decoded as `nil`), as does a throttle whose
    /// task's record is gone.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> SubmitResult {
        let code = try reply.code()
        guard code == .ok else {
            let detail = reply.details()
            if code == .invalidArgument, detail.count == 3, detail[0] == "service edge" {
                throw JobqError(.invalidOption, "task \(detail[1]) waits for service task \(detail[2]) with a policy other than `always`; a service task is not waited for (it runs until its run is over), so an edge to it must be `always` (released when it starts)", subject: detail[1])
            }
            throw code.error(subject: detail.first, detail: detail)
        }
        let number = try reply.int("outcome")
        guard let outcome = SubmitOutcome(rawValue: number) else {
            throw JobqError(.internalError, "submit answered an unknown outcome \(number): client and scripts disagree")
        }
        let run = try reply.string("run id")
        var tasks: [SubmittedTask] = []
        tasks.reserveCapacity(reply.remaining / 2)
        while reply.remaining > 0 {
            let id = try reply.string("task id")
            let state = try reply.string("task state")
            tasks.append(SubmittedTask(id: id, state: TaskState(rawValue: state)))
        }
        return SubmitResult(created: outcome == .created, tasks: tasks, workflow: run.isEmpty ? workflow : run, run: run.isEmpty ? nil : run, outcome: outcome)
    }
}
