import JobqRedis

/// complete.lua: RUNNING → DONE for a batch of tasks, fenced.
package struct CompleteCall: ScriptCall {
    package static var script: RedisScript { Scripts.complete }

    package var completions: [Completion]

    package var arguments: [RedisArgument] {
        var arguments: [RedisArgument] = []
        arguments.reserveCapacity(completions.count * 4)
        for completion in completions {
            arguments += [
                RedisArgument(completion.lease.id), RedisArgument(completion.lease.token),
                RedisArgument(bytes: completion.result), RedisArgument(completion.skipped ? "1" : "0"),
            ]
        }
        return arguments
    }

    /// `{1, code per task}`: 1 DONE, or a refusal.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> [LeaseWriteOutcome] {
        try reply.expectOK()
        return try reply.itemOutcomes(count: completions.count) { $0 == ScriptCode.ok.rawValue ? .done : nil }
    }
}
