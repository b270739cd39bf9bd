import JobqRedis

/// cancel.lua for one task: PENDING → CANCELLED now, or RUNNING → cancellation requested.
package struct CancelTaskCall: ScriptCall {
    package static var script: RedisScript { Scripts.cancel }

    package var id: String
    package var message: String

    package var arguments: [RedisArgument] {
        [RedisArgument(CancelTarget.task.rawValue), RedisArgument(id), RedisArgument(message)]
    }

    /// `{1, CANCELLED}` | `{1, REQUESTED}` | `{0, REQUESTED}` (already requested) | a refusal.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> CancelOutcome {
        let code = try reply.code()
        switch code {
        case .ok:
            switch try reply.word(CancelScriptResult.self, "outcome") {
            case .cancelled: return .cancelled
            case .requested: return .requested
            }
        case .noop:
            _ = try reply.word(CancelScriptResult.self, "outcome")
            return .alreadyRequested
        default:
            throw code.error(subject: id, detail: reply.details())
        }
    }
}

/// cancel.lua for a workflow: every unfinished task of it.
package struct CancelWorkflowCall: ScriptCall {
    package static var script: RedisScript { Scripts.cancel }

    package var workflow: String
    package var message: String

    package var arguments: [RedisArgument] {
        [RedisArgument(CancelTarget.workflow.rawValue), RedisArgument(workflow), RedisArgument(message)]
    }

    /// `{1, cancelled, requested}` | a refusal.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> WorkflowCancellation {
        let code = try reply.code()
        guard code == .ok else { throw code.error(subject: workflow, detail: reply.details()) }
        return WorkflowCancellation(cancelled: try reply.int("cancelled"), requested: try reply.int("requested"))
    }
}
