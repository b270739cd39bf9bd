extension Maintenance {
    /// Stops claims from `queue` (running tasks finish; submits still accepted). Returns whether
    /// it was running before. Throws `not_found` for a queue no task ever used, unless
    /// `allowNew` (then it is paused before its first task).
    @discardableResult
    package func pause(queue: String, allowNew: Bool = false, actor: String? = nil) async throws(JobqError) -> Bool {
        try Validation.check(name: queue, as: .queue)
        return try await runner.run(QueueCall(action: .pause, queue: queue, allowNew: allowNew, actor: actor))
    }

    /// Lets workers claim from `queue` again, and wakes them. Returns whether it was paused.
    @discardableResult
    package func resume(queue: String, actor: String? = nil) async throws(JobqError) -> Bool {
        try Validation.check(name: queue, as: .queue)
        return try await runner.run(QueueCall(action: .resume, queue: queue, actor: actor))
    }
}
