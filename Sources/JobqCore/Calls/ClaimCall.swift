import JobqRedis

/// claim.lua: take up to `count` dispatchable tasks from `queues` (in order) under a lease.
package struct ClaimCall: ScriptCall {
    package static var script: RedisScript { Scripts.claim }

    package var worker: String
    package var lease: Duration
    package var count: Int
    /// The worker runs no handler now: it may take a quarantined suspect (to run alone).
    package var idle: Bool
    package var queues: [String]

    package var arguments: [RedisArgument] {
        [RedisArgument(worker), RedisArgument(Int(lease.jobqMilliseconds)), RedisArgument(count), RedisArgument(idle ? "1" : "0")]
            + queues.map { RedisArgument($0) }
    }

    /// `{1, n, mode, rate wake (ms, 0 for none), then per task 17 fields and its prerequisites' (id, state, result) triples}`.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> ClaimBatch {
        let code = try reply.code()
        guard code == .ok else { throw code.error(subject: nil, detail: reply.details()) }
        let claimed = try reply.int("claimed count")
        let modeNumber = try reply.int("claim mode")
        guard let mode = ClaimMode(rawValue: modeNumber) else { throw reply.malformed("claim mode \(modeNumber)") }
        let rateWake = try reply.int("rate wake")
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
            let workerDeaths = try reply.int("worker deaths")
            let checkpoint = try reply.bytes("checkpoint")
            let signals = try reply.bytes("signals")
            let trace = try reply.bytes("trace")
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
                title: title, prerequisites: prerequisites, workerDeaths: workerDeaths,
                checkpoint: checkpoint.isEmpty ? nil : checkpoint, signals: signals.isEmpty ? nil : signals,
                traceHeaders: TraceCarrier.decode(trace)
            ))
        }
        return ClaimBatch(tasks: tasks, mode: mode, rateWake: rateWake > 0 ? Int64(rateWake) : nil)
    }
}

/// What one claim returned: the tasks, and how the worker must run them.
package struct ClaimBatch: Sendable {
    package var tasks: [ClaimedTask]
    package var mode: ClaimMode
    /// When (Redis ms) the earliest rate key this claim parked a task on may start again: the
    /// worker runs `promote` then, which wakes it (no polling meanwhile).
    package var rateWake: Int64?

    package init(tasks: [ClaimedTask], mode: ClaimMode = .normal, rateWake: Int64? = nil) {
        self.tasks = tasks
        self.mode = mode
        self.rateWake = rateWake
    }
}
