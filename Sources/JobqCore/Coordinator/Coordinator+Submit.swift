import JobqRedis

extension Coordinator {
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
    public func submit(_ tasks: [TaskSpec], workflow: String? = nil, idempotencyKey: String? = nil) async throws(JobqError) -> SubmitResult {
        guard !tasks.isEmpty else { throw JobqError(.invalidOption, "nothing to submit") }
        guard tasks.count <= limits.maxTasksPerSubmission else {
            throw JobqError(.tooManyTasks, "\(tasks.count) tasks in one submission; at most \(limits.maxTasksPerSubmission) allowed — split it into several workflows")
        }
        if let workflow { try Validation.check(name: workflow, as: .workflow) }
        if let idempotencyKey { try Validation.check(name: idempotencyKey, as: .idempotencyKey) }

        var graph = DependencyGraph()
        var ids: [String] = []
        ids.reserveCapacity(tasks.count)
        for spec in tasks {
            try spec.validate(limits: limits)
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

        var arguments: [RedisArgument] = [
            RedisArgument(idempotencyKey ?? ""),
            RedisArgument(idempotencyKey == nil ? "" : Self.fingerprint(tasks, workflow: workflow)),
            RedisArgument(workflow ?? ""),
            RedisArgument(Int(idempotencyWindow.jobqMilliseconds)),
            RedisArgument(tasks.count),
        ]
        arguments.reserveCapacity(arguments.count + tasks.count * 12)
        for (spec, id) in zip(tasks, ids) {
            arguments += [
                RedisArgument(id), RedisArgument(spec.handler), RedisArgument(spec.queue),
                RedisArgument(bytes: spec.payload), RedisArgument(spec.maxAttempts),
                RedisArgument(Int(spec.timeout.jobqMilliseconds)), RedisArgument(bytes: spec.backoff.encodedJSON),
                RedisArgument(Int(spec.delay.jobqMilliseconds)), RedisArgument(Int(spec.resultTTL.jobqMilliseconds)),
                RedisArgument(spec.title), RedisArgument(spec.prerequisites.count),
            ]
            for prerequisite in spec.prerequisites {
                arguments += [RedisArgument(prerequisite.id), RedisArgument(prerequisite.policy.rawValue)]
            }
        }

        let reply = try await run(Scripts.submit, arguments)
        let code = try Self.code(of: reply, script: "submit")
        guard code == .ok else {
            throw code.error(subject: Self.details(of: reply).first, detail: Self.details(of: reply))
        }
        let created = reply.count > 1 && reply[1].int == 1
        var submitted: [SubmittedTask] = []
        var index = 2
        while index + 1 < reply.count {
            submitted.append(SubmittedTask(id: reply[index].string ?? "", state: reply[index + 1].string.flatMap(TaskState.init(rawValue:))))
            index += 2
        }
        return SubmitResult(created: created, tasks: submitted, workflow: workflow)
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
            for prerequisite in spec.prerequisites {
                field(Array("\(prerequisite.id)=\(prerequisite.policy.rawValue)".utf8))
            }
        }
        return SHA1.hexDigest(bytes)
    }
}
