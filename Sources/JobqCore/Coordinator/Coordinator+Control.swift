import JobqRedis

/// Operator actions: cancel and retry.
extension Coordinator {
    /// The answer to a cancel request.
    public enum CancelOutcome: Sendable, Hashable {
        /// The task was pending and is now CANCELLED (with its `success` dependents).
        case cancelled
        /// The task is running; its worker is told and stops the handler.
        case requested
        /// The task is running and its cancellation had already been requested.
        case alreadyRequested
    }

    /// Cancels one task. Throws `not_found`, or `invalid_state` when it has already ended.
    public func cancel(task id: String, message: String = "cancelled by request") async throws(JobqError) -> CancelOutcome {
        try Validation.check(name: id, as: .taskID)
        let reply = try await run(Scripts.cancel, ["task", RedisArgument(id), RedisArgument(message)])
        let code = try Self.code(of: reply, script: "cancel")
        let detail = Self.details(of: reply)
        switch code {
        case .ok: return detail.first == "CANCELLED" ? .cancelled : .requested
        case .noop: return .alreadyRequested
        default: throw code.error(subject: id, detail: detail)
        }
    }

    /// Cancels every unfinished task of a workflow. Returns how many were cancelled at once and
    /// how many running ones were asked to stop.
    public func cancel(workflow id: String, message: String = "workflow cancelled by request") async throws(JobqError) -> (cancelled: Int, requested: Int) {
        try Validation.check(name: id, as: .workflow)
        let reply = try await run(Scripts.cancel, ["workflow", RedisArgument(id), RedisArgument(message)])
        let code = try Self.code(of: reply, script: "cancel")
        guard code == .ok, reply.count >= 3 else { throw code.error(subject: id, detail: Self.details(of: reply)) }
        return (reply[1].int ?? 0, reply[2].int ?? 0)
    }

    /// Re-opens a FAILED or CANCELLED task with a fresh attempt budget, and the dependents it
    /// took down. Returns the ids re-opened, `id` first.
    public func retry(task id: String) async throws(JobqError) -> [String] {
        try Validation.check(name: id, as: .taskID)
        let reply = try await run(Scripts.retry, [RedisArgument(id)])
        let code = try Self.code(of: reply, script: "retry")
        guard code == .ok else { throw code.error(subject: id, detail: Self.details(of: reply)) }
        return reply.dropFirst().compactMap(\.string)
    }
}
