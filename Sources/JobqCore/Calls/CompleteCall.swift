import JobqRedis

/// complete.lua: RUNNING → DONE for a batch of tasks, fenced.
package struct CompleteCall: ScriptCall {
    package static var script: RedisScript { Scripts.complete }

    package var completions: [Completion]

    package var arguments: [RedisArgument] {
        var arguments: [RedisArgument] = []
        arguments.reserveCapacity(completions.count * 5)
        for completion in completions {
            arguments += [
                RedisArgument(completion.lease.id), RedisArgument(completion.lease.token),
                RedisArgument(bytes: completion.result), RedisArgument(completion.skipped ? "1" : "0"),
                // '-': the handler read its ended children (complete.lua)
                RedisArgument(completion.awaitRun ?? (completion.childrenRead ? "-" : "")),
            ]
        }
        return arguments
    }

    /// `{1, cascades left, code per task}`: 1 DONE, or a refusal.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> LeaseWriteBatch {
        try reply.expectOK()
        let cascadesLeft = try reply.flag("cascades left")
        let outcomes = try reply.itemOutcomes(count: completions.count) { $0 == ScriptCode.ok.rawValue ? .done : nil }
        return LeaseWriteBatch(outcomes: outcomes, cascadesLeft: cascadesLeft)
    }
}

/// What a batch `complete` or `fail` answered: one outcome per item, and whether the call left
/// dependents to settle (a cascade larger than one call's budget) for its caller to continue.
package struct LeaseWriteBatch: Sendable, Hashable {
    package var outcomes: [LeaseWriteOutcome]
    package var cascadesLeft: Bool

    package init(outcomes: [LeaseWriteOutcome], cascadesLeft: Bool = false) {
        self.outcomes = outcomes
        self.cascadesLeft = cascadesLeft
    }
}
