import JobqRedis

extension TaskStore {
    /// Creates tasks atomically: all of them, or none.
    ///
    /// Everything that can be checked without Redis is checked first (names, payload JSON and
    /// size, limits, duplicate ids, cycles); the script then checks what needs Redis (existing ids,
    /// unknown prerequisites) before writing anything.
    ///
    /// - Parameters:
    ///   - tasks: the tasks; prerequisites may name tasks of this batch or existing ones.
    ///   - workflow: a label that groups standalone tasks for status, watch and cancel.
    ///   - run: makes the tasks a new run (``RunOptions``): their ids are keys within it
    ///     (`RUN/KEY`), prerequisites naming a key of the batch resolve within the run, and a run
    ///     id that exists is refused (`run_exists`). Excludes `workflow`.
    ///   - idempotencyKey: a repeated submission with the same key and content returns the first
    ///     one's ids (and run) with `created == false`, whether or not the run id was generated;
    ///     the same key with other content is a conflict.
    ///   - trace: the producer's trace context, stored with every task (``TraceCarrier``); not
    ///     part of the idempotency fingerprint (a retried submission comes from another span).
    /// - Throws: ``JobqError`` with a stable code; nothing is written.
    package func submit(
        _ tasks: [TaskSpec], workflow: String? = nil, run: RunOptions? = nil, idempotencyKey: String? = nil,
        trace: [String: String] = [:]
    ) async throws(JobqError) -> SubmitResult {
        guard !tasks.isEmpty else { throw JobqError(.invalidOption, "nothing to submit") }
        guard tasks.count <= runner.limits.maxTasksPerSubmission else {
            throw JobqError(.tooManyTasks, "\(tasks.count) tasks in one submission; at most \(runner.limits.maxTasksPerSubmission) allowed — split it into several workflows")
        }
        if let workflow { try Validation.check(name: workflow, as: .workflow) }
        if let idempotencyKey { try Validation.check(name: idempotencyKey, as: .idempotencyKey) }
        if workflow != nil && run != nil { throw JobqError(.invalidOption, "a submission is either a run or labelled with a workflow, not both") }
        try run?.validate()
        let runID = run.map { $0.id ?? RunScope.generateID(definition: $0.definition) }

        var graph = DependencyGraph()
        var keys: [String] = []
        keys.reserveCapacity(tasks.count)
        for spec in tasks {
            try spec.validate(limits: runner.limits)
            let key = spec.id ?? TaskID.generate()
            guard !graph.contains(key) else {
                throw JobqError(.duplicateID, "task id \(key) appears twice in this submission", subject: key)
            }
            graph.addNode(key)
            keys.append(key)
        }
        for (spec, key) in zip(tasks, keys) {
            for prerequisite in spec.prerequisites where graph.contains(prerequisite.id) {
                graph.addEdge(prerequisite: prerequisite.id, dependent: key)
            }
        }
        if let run, let stray = run.critical.sorted().first(where: { !graph.contains($0) }) {
            throw JobqError(.invalidOption, "critical task \(stray) is not a task of this run", subject: stray)
        }
        if let output = run?.output, !graph.contains(output) {
            throw JobqError(.invalidOption, "the run's output \(output) is not a task of this run", subject: output)
        }
        if let cycle = graph.findCycle() {
            throw JobqError(.cycle, "the dependencies form a cycle: \(cycle.joined(separator: " -> "))", subject: cycle.first)
        }

        try Self.checkUniqueness(tasks, keys: keys, inRun: run != nil)
        let services = try Self.checkServices(tasks, keys: keys, inRun: run != nil)
        var items: [SubmitCall.Item] = []
        items.reserveCapacity(tasks.count)
        let traceArgument = TraceCarrier.encode(trace)
        for (key, spec) in zip(keys, tasks) {
            var spec = spec
            if case .debounce(let quiet) = spec.uniqueness?.mode { spec.delay = quiet } // its delay is the quiet time
            items.append(SubmitCall.Item(
                id: key, spec: spec, limit: try spec.concurrency?.scriptArgument(payload: spec.payload) ?? "",
                unique: try spec.uniqueness?.scriptArgument(payload: spec.payload) ?? "",
                trace: traceArgument,
                rate: try spec.rate?.scriptArgument(payload: spec.payload, queue: spec.queue) ?? "",
                fair: try spec.fairKey.map { template throws(JobqError) in try FairKey.expand(template, payload: spec.payload) } ?? ""
            ))
        }
        if let runID {
            // Scope the batch: its ids and its references to its own tasks become RUN/KEY.
            for index in items.indices {
                items[index].id = RunScope.id(run: runID, key: items[index].id)
                items[index].spec.id = items[index].id
                for p in items[index].spec.prerequisites.indices where graph.contains(items[index].spec.prerequisites[p].id) {
                    items[index].spec.prerequisites[p].id = RunScope.id(run: runID, key: items[index].spec.prerequisites[p].id)
                }
                // a precondition names its prerequisites as they are named: within the run too
                if var precondition = items[index].spec.precondition {
                    for t in precondition.tests.indices where graph.contains(precondition.tests[t].prerequisite) {
                        precondition.tests[t].prerequisite = RunScope.id(run: runID, key: precondition.tests[t].prerequisite)
                    }
                    items[index].spec.precondition = precondition
                }
            }
        }
        let call = SubmitCall(
            items: items, workflow: runID ?? workflow, run: run,
            idempotencyKey: idempotencyKey,
            fingerprint: idempotencyKey == nil ? "" : Self.fingerprint(tasks, workflow: workflow, run: run),
            idempotencyWindow: idempotencyWindow, services: services
        )
        if run != nil && items.count > runner.limits.tasksPerSubmitCall {
            return try await submitInChunks(call)
        }
        return try await runner.run(call)
    }

    /// Uniqueness across a submission: a debounce only in a one-task standalone submission (it
    /// replaces that task's payload, which means nothing inside a graph), and no unique key twice
    /// (the second would wait on the first for ever, or collapse into it).
    static func checkUniqueness(_ tasks: [TaskSpec], keys: [String], inRun: Bool) throws(JobqError) {
        var seen: [String: String] = [:]
        for (spec, id) in zip(tasks, keys) {
            guard let unique = spec.uniqueness else { continue }
            if case .debounce = unique.mode, tasks.count > 1 || inRun {
                throw JobqError(.invalidOption, "debounce applies to one standalone task (jobq submit HANDLER); in a workflow, use unique_key with until_started instead", subject: id)
            }
            let lock = unique.lockKind + " " + (try unique.expandedKey(payload: spec.payload, subject: id))
            if let other = seen.updateValue(id, forKey: lock) {
                throw JobqError(.invalidOption, "tasks \(other) and \(id) have the same unique key; one submission may hold a key once", subject: id)
            }
        }
    }

    /// Service tasks (``TaskSpec/service``): only in a run, and named by other tasks of the
    /// submission only with `always` (it is never waited for to end: the edge is released when
    /// it starts). Returns their keys.
    static func checkServices(_ tasks: [TaskSpec], keys: [String], inRun: Bool) throws(JobqError) -> [String] {
        var services: Set<String> = []
        for (spec, key) in zip(tasks, keys) where spec.service {
            guard inRun else {
                throw JobqError(.invalidOption, "service task \(key): a service task belongs to a run (a workflow file, or a run submission)", subject: key)
            }
            services.insert(key)
        }
        guard !services.isEmpty else { return [] }
        for (spec, key) in zip(tasks, keys) {
            for prerequisite in spec.prerequisites where services.contains(prerequisite.id) && prerequisite.policy != .always {
                throw JobqError(.invalidOption, "task \(key) waits for service task \(prerequisite.id) with `\(prerequisite.policy.rawValue)`; a service task is not waited for (it runs until its run is over), so an edge to it must be `always` (released when it starts)", subject: key)
            }
        }
        return keys.filter(services.contains)
    }

    /// A digest of what the producer asked for (generated ids excluded — task ids and a run's
    /// id — so a retried submission that generates new ids still matches its first try).
    static func fingerprint(_ tasks: [TaskSpec], workflow: String?, run: RunOptions? = nil) -> String {
        var bytes: [UInt8] = Array((workflow ?? "").utf8)
        if let run {
            bytes += Array(" run \(run.id ?? "") \(run.definition)".utf8)
            for (field, value) in run.recordFields { bytes += Array(" \(field.rawValue)=\(value)".utf8) }
        }
        func field(_ part: [UInt8]) {
            bytes += Array(String(part.count).utf8) + [0x3A] + part
        }
        for spec in tasks {
            field(Array((spec.id ?? "").utf8))
            field(Array(spec.handler.utf8))
            field(Array(spec.queue.utf8))
            field(spec.payload)
            field(Array("\(spec.maxAttempts) \(spec.timeout.jobqMilliseconds) \(spec.delay.jobqMilliseconds) \(spec.resultTTL.jobqMilliseconds)".utf8))
            field(spec.backoff.encodedJSON)
            field(Array(spec.title.utf8))
            if let precondition = spec.precondition { field(Array(precondition.compiledJSON.utf8)) } // absent: as before
            if let cacheKey = spec.cacheKey { field(Array(("cache_key " + cacheKey.template).utf8)) } // absent: as before
            if let expires = spec.expires { field(Array(("expires " + expires.scriptArgument).utf8)) } // absent: as before
            if let limit = spec.concurrency { field(Array("concurrency \(limit.limit) \(limit.key)".utf8)) } // absent: as before
            if let rate = spec.rate { field(Array("rate \(rate.count) \(rate.interval.jobqMilliseconds) \(rate.key ?? "")".utf8)) } // absent: as before
            if let wait = spec.waitFor { field(Array(("wait_for " + wait.scriptArgument).utf8)) } // absent: as before
            if let unique = spec.uniqueness { field(Array("unique \(unique.modeText) \(unique.key)".utf8)) } // absent: as before
            if spec.service { field(Array("service".utf8)) } // absent: as before
            for prerequisite in spec.prerequisites {
                field(Array("\(prerequisite.id)=\(prerequisite.policy.rawValue)".utf8))
            }
        }
        return SHA1.hexDigest(bytes)
    }
}
