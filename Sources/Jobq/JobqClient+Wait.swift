import JobqCore

/// Waiting without polling: block on the event stream (XREAD BLOCK on the client's blocking
/// lane) and look at the task only when one of its events goes by.
extension JobqClient {
    /// Returns the task once it is DONE, FAILED or CANCELLED. Throws `timeout` after `timeout`.
    public func wait(for id: String, timeout: Duration? = nil) async throws(JobqError) -> TaskInfo {
        let ids: Set<String> = [id]
        return try await waitUntil(ids, timeout: timeout) { () throws(JobqError) -> TaskInfo? in
            let info = try await status(id)
            return info.state?.isTerminal == true ? info : nil
        }
    }

    /// Returns the workflow's summary once every task has ended. Throws `timeout`.
    public func wait(forWorkflow workflow: String, timeout: Duration? = nil) async throws(JobqError) -> WorkflowSummary {
        let ids = Set(try await taskIDs(inWorkflow: workflow))
        guard !ids.isEmpty else { throw JobqError(.notFound, "no workflow \(workflow)", subject: workflow) }
        return try await waitUntil(ids, timeout: timeout) { () throws(JobqError) -> WorkflowSummary? in
            let summary = try await summary(workflow: workflow)
            return summary.isFinished ? summary : nil
        }
    }

    /// Checks `done` now and again after each batch of events about `ids`, until it answers.
    private func waitUntil<T>(
        _ ids: Set<String>, timeout: Duration?, done: () async throws(JobqError) -> T?
    ) async throws(JobqError) -> T {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        // Read the stream position first, so no event between the check and the wait is missed.
        var position = try await lastEventID()
        if let value = try await done() { return value }
        while true {
            var block: Duration = .seconds(5)
            if let deadline {
                let left = deadline - clock.now
                guard left > .zero else {
                    throw JobqError(.timeout, "gave up waiting after \(timeout ?? .zero)")
                }
                block = min(block, left)
            }
            let (records, next) = try await events(after: position, block: block)
            position = next
            // Look again when one of ours moved, and after a quiet period (in case events were
            // trimmed from the capped stream).
            if records.isEmpty || records.contains(where: { ids.contains($0.task) }), let value = try await done() {
                return value
            }
        }
    }
}
