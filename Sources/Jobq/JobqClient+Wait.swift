import JobqCore
import JobqRedis

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
        let ids = Set(try await coordinator.taskIDs(inWorkflow: workflow))
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
        let events = RedisArgument(coordinator.keys.events)
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
            let milliseconds = max(1, Int(block.components.seconds * 1000 + block.components.attoseconds / 1_000_000_000_000_000))
            let reply: RedisValue
            do {
                reply = try await redis.sendBlocking(
                    RedisCommand("XREAD", ["COUNT", 1000, "BLOCK", RedisArgument(milliseconds), "STREAMS", events, RedisArgument(position)]),
                    blockTimeout: block
                )
            } catch {
                throw Coordinator.translate(error, doing: "wait")
            }
            var relevant = false
            for entry in reply.array?.first?.array?.dropFirst().first?.array ?? [] {
                guard let parts = entry.array, parts.count == 2, let entryID = parts[0].string else { continue }
                position = entryID
                let fields = parts[1].array ?? []
                if let taskIndex = fields.firstIndex(where: { $0.string == "task" }), taskIndex + 1 < fields.count,
                    let task = fields[taskIndex + 1].string, ids.contains(task)
                {
                    relevant = true
                }
            }
            if relevant || reply.isNull, let value = try await done() { return value }
        }
    }

    private func lastEventID() async throws(JobqError) -> String {
        do {
            let reply = try await redis.send(RedisCommand("XREVRANGE", [RedisArgument(coordinator.keys.events), "+", "-", "COUNT", 1]))
            return reply.array?.first?.array?.first?.string ?? "0-0"
        } catch {
            throw Coordinator.translate(error, doing: "wait")
        }
    }
}
