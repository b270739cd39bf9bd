import JobqRedis

/// The worker side: claim under a lease, keep it alive, report the outcome. Every write after the
/// claim carries the fencing token; a stale token changes nothing.
extension Coordinator {
    /// Claims up to `count` dispatchable tasks from `queues`, in the order given.
    public func claim(queues: [String], count: Int, lease: Duration, worker: String) async throws(JobqError) -> [ClaimedTask] {
        guard !queues.isEmpty else { return [] }
        guard count >= 1 else { throw JobqError(.invalidOption, "claim count must be at least 1") }
        var arguments: [RedisArgument] = [RedisArgument(worker), RedisArgument(Int(lease.jobqMilliseconds)), RedisArgument(count)]
        arguments += queues.map { RedisArgument($0) }
        let reply = try await run(Scripts.claim, arguments)
        let code = try Self.code(of: reply, script: "claim")
        guard code == .ok, reply.count >= 2 else { throw code.error(subject: nil, detail: Self.details(of: reply)) }
        let claimed = reply[1].int ?? 0
        var tasks: [ClaimedTask] = []
        tasks.reserveCapacity(claimed)
        var index = 2
        for _ in 0..<claimed {
            guard index + 12 < reply.count else { break }
            let fields = reply[index..<(index + 13)].map { $0 }
            let dependencyCount = fields[12].int ?? 0
            index += 13
            var prerequisites: [PrerequisiteOutcome] = []
            prerequisites.reserveCapacity(dependencyCount)
            for _ in 0..<dependencyCount where index + 2 < reply.count {
                prerequisites.append(PrerequisiteOutcome(
                    id: reply[index].string ?? "",
                    state: reply[index + 1].string.flatMap(TaskState.init(rawValue:)),
                    result: reply[index + 2].bytes ?? []
                ))
                index += 3
            }
            let workflow = fields[9].string ?? ""
            tasks.append(ClaimedTask(
                id: fields[0].string ?? "",
                handler: fields[1].string ?? "",
                queue: fields[2].string ?? "",
                payload: fields[3].bytes ?? [],
                attempt: fields[4].int ?? 1,
                maxAttempts: fields[5].int ?? 1,
                lease: TaskLease(id: fields[0].string ?? "", token: fields[6].int ?? 0),
                timeout: .milliseconds(fields[7].int ?? 0),
                leaseDeadline: Int64(fields[8].int ?? 0),
                workflow: workflow.isEmpty ? nil : workflow,
                backoff: fields[10].bytes.flatMap { RetryBackoff(json: $0) } ?? .default,
                title: fields[11].string ?? "",
                prerequisites: prerequisites
            ))
        }
        return tasks
    }

    /// Extends the leases of `leases`. The answer for each says whether its task was cancelled.
    public func heartbeat(_ leases: [TaskLease], lease: Duration, worker: String) async throws(JobqError) -> [LeaseWriteOutcome] {
        guard !leases.isEmpty else { return [] }
        var arguments: [RedisArgument] = [RedisArgument(worker), RedisArgument(Int(lease.jobqMilliseconds))]
        for held in leases { arguments += [RedisArgument(held.id), RedisArgument(held.token)] }
        let reply = try await run(Scripts.heartbeat, arguments)
        return try Self.perItem(reply, script: "heartbeat", first: 2, count: leases.count) { code in
            switch code {
            case 1: .extended
            case 2: .cancelRequested
            default: nil
            }
        }
    }

    /// Records successful runs (RUNNING → DONE) in one script call.
    public func complete(_ completions: [Completion]) async throws(JobqError) -> [LeaseWriteOutcome] {
        guard !completions.isEmpty else { return [] }
        var arguments: [RedisArgument] = []
        arguments.reserveCapacity(completions.count * 4)
        for completion in completions {
            arguments += [
                RedisArgument(completion.lease.id), RedisArgument(completion.lease.token),
                RedisArgument(bytes: completion.result), RedisArgument(completion.skipped ? "1" : "0"),
            ]
        }
        let reply = try await run(Scripts.complete, arguments)
        return try Self.perItem(reply, script: "complete", first: 1, count: completions.count) { $0 == 1 ? .done : nil }
    }

    /// Records unsuccessful runs in one script call.
    public func fail(_ failures: [Failure]) async throws(JobqError) -> [LeaseWriteOutcome] {
        guard !failures.isEmpty else { return [] }
        var arguments: [RedisArgument] = []
        arguments.reserveCapacity(failures.count * 6)
        for failure in failures {
            let (mode, delay): (String, Int64) = switch failure.mode {
            case .retry(let delay): ("retry", delay.jobqMilliseconds)
            case .final: ("final", 0)
            case .handBack: ("handback", 0)
            case .cancelled: ("cancelled", 0)
            }
            // The reason is a stable word; anything else is recorded as "error".
            let reason = (try? Validation.check(name: failure.reason, as: .reason)) != nil ? failure.reason : "error"
            arguments += [
                RedisArgument(failure.lease.id), RedisArgument(failure.lease.token), RedisArgument(mode),
                RedisArgument(Int(delay)), RedisArgument(reason), RedisArgument(String(failure.message.prefix(4096))),
            ]
        }
        let reply = try await run(Scripts.fail, arguments)
        return try Self.perItem(reply, script: "fail", first: 1, count: failures.count) { code in
            switch code {
            case 1: .retrying
            case 2: .failed
            case 3: .cancelled
            case 4: .handedBack
            default: nil
            }
        }
    }

    /// Decodes the per-item codes of a batch script; `success` names the positive codes.
    static func perItem(
        _ reply: [RedisValue], script: String, first: Int, count: Int,
        success: (Int) -> LeaseWriteOutcome?
    ) throws(JobqError) -> [LeaseWriteOutcome] {
        let code = try Self.code(of: reply, script: script)
        guard code == .ok, reply.count == first + count else {
            throw code == .ok
                ? JobqError(.internalError, "script \(script) answered \(reply.count - first) items for \(count)")
                : code.error(subject: nil, detail: details(of: reply))
        }
        return reply[first...].map { value in
            let raw = value.int ?? 0
            if let outcome = success(raw) { return outcome }
            switch ScriptCode(rawValue: raw) {
            case .notFound: return .refused(.notFound)
            case .wrongState: return .refused(.invalidState)
            case .staleToken: return .refused(.staleToken)
            default: return .refused(.internalError)
            }
        }
    }
}
