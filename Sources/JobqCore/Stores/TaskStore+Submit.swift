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
    ///   - workflow: groups the tasks for status, watch and cancel.
    ///   - idempotencyKey: a repeated submission with the same key and content returns the first
    ///     one's ids with `created == false`; the same key with other content is a conflict.
    /// - Throws: ``JobqError`` with a stable code; nothing is written.
    package func submit(_ tasks: [TaskSpec], workflow: String? = nil, idempotencyKey: String? = nil) async throws(JobqError) -> SubmitResult {
        guard !tasks.isEmpty else { throw JobqError(.invalidOption, "nothing to submit") }
        guard tasks.count <= runner.limits.maxTasksPerSubmission else {
            throw JobqError(.tooManyTasks, "\(tasks.count) tasks in one submission; at most \(runner.limits.maxTasksPerSubmission) allowed — split it into several workflows")
        }
        if let workflow { try Validation.check(name: workflow, as: .workflow) }
        if let idempotencyKey { try Validation.check(name: idempotencyKey, as: .idempotencyKey) }

        var graph = DependencyGraph()
        var ids: [String] = []
        ids.reserveCapacity(tasks.count)
        for spec in tasks {
            try spec.validate(limits: runner.limits)
            let id = spec.id ?? TaskID.generate()
            guard !graph.contains(id) else {
                throw JobqError(.duplicateID, "task id \(id) appears twice in this submission", subject: id)
            }
            graph.addNode(id)
            ids.append(id)
        }
        for (spec, id) in zip(tasks, ids) {
            for prerequisite in spec.prerequisites where graph.contains(prerequisite.id) {
                graph.addEdge(prerequisite: prerequisite.id, dependent: id)
            }
        }
        if let cycle = graph.findCycle() {
            throw JobqError(.cycle, "the dependencies form a cycle: \(cycle.joined(separator: " -> "))", subject: cycle.first)
        }

        return try await runner.run(SubmitCall(
            items: zip(ids, tasks).map { SubmitCall.Item(id: $0, spec: $1) }, workflow: workflow,
            idempotencyKey: idempotencyKey,
            fingerprint: idempotencyKey == nil ? "" : Self.fingerprint(tasks, workflow: workflow),
            idempotencyWindow: idempotencyWindow
        ))
    }

    /// A digest of what the producer asked for (generated ids excluded, so a retried submission
    /// that generates new ids still matches its first try).
    static func fingerprint(_ tasks: [TaskSpec], workflow: String?) -> String {
        var bytes: [UInt8] = Array((workflow ?? "").utf8)
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
            for prerequisite in spec.prerequisites {
                field(Array("\(prerequisite.id)=\(prerequisite.policy.rawValue)".utf8))
            }
        }
        return SHA1.hexDigest(bytes)
    }
}
