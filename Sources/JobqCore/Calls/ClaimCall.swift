import JobqRedis

/// claim.lua: take up to `count` dispatchable tasks from `queues` (in order) under a lease.
package struct ClaimCall: ScriptCall {
    package static var script: RedisScript { Scripts.claim }

    package var worker: String
    package var lease: Duration
    package var count: Int
    package var queues: [String]

    package var arguments: [RedisArgument] {
        [RedisArgument(worker), RedisArgument(Int(lease.jobqMilliseconds)), RedisArgument(count)] + queues.map { RedisArgument($0) }
    }

    /// `{1, n, then per task 13 fields and its prerequisites' (id, state, result) triples}`.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> [ClaimedTask] {
        let code = try reply.code()
        guard code == .ok else { throw code.error(subject: nil, detail: reply.details()) }
        let claimed = try reply.int("claimed count")
        var tasks: [ClaimedTask] = []
        tasks.reserveCapacity(claimed)
        for _ in 0..<claimed {
            let id = try reply.string("id")
            let handler = try reply.string("handler")
            let queue = try reply.string("queue")
            let payload = try reply.bytes("payload")
            let attempt = try reply.int("attempt")
            let maxAttempts = try reply.int("max attempts")
            let token = try reply.int("token")
            let timeout = try reply.int("timeout")
            let deadline = try reply.int("lease deadline")
            let workflow = try reply.string("workflow")
            let backoff = try reply.bytes("backoff")
            let title = try reply.string("title")
            let dependencyCount = try reply.int("prerequisite count")
            var prerequisites: [PrerequisiteOutcome] = []
            prerequisites.reserveCapacity(dependencyCount)
            for _ in 0..<dependencyCount {
                let prerequisite = try reply.string("prerequisite id")
                let state = try reply.string("prerequisite state")
                let result = try reply.bytes("prerequisite result")
                prerequisites.append(PrerequisiteOutcome(id: prerequisite, state: TaskState(rawValue: state), result: result))
            }
            tasks.append(ClaimedTask(
                id: id, handler: handler, queue: queue, payload: payload, attempt: attempt, maxAttempts: maxAttempts,
                lease: TaskLease(id: id, token: token), timeout: .milliseconds(timeout), leaseDeadline: Int64(deadline),
                workflow: workflow.isEmpty ? nil : workflow, backoff: RetryBackoff(json: backoff) ?? .default,
                title: title, prerequisites: prerequisites
            ))
        }
        return tasks
    }
}
