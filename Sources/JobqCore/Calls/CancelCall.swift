import JobqRedis

/// cancel.lua for one task: PENDING → CANCELLED now, or RUNNING → cancellation requested.
package struct CancelTaskCall: ScriptCall {
    package static var script: RedisScript { Scripts.cancel }

    package var id: String
    package var message: String
    /// Who asked (the `by` field of the event entries); `nil`: nobody named.
    package var actor: String? = nil

    package var arguments: [RedisArgument] {
        [RedisArgument(CancelTarget.task.rawValue), RedisArgument(id), RedisArgument(message), RedisArgument(ContinuationStep.start.rawValue), RedisArgument(actor ?? "")]
    }

    /// `{1, CANCELLED, status}` | `{1, REQUESTED, status}` | `{0, REQUESTED}` (already requested) |
    /// a refusal. `status` is `more` when the cascade went on past this call's budget (it waits
    /// on the settle list: ``ScriptRunner/settleAll()``).
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> CancelTaskReply {
        let code = try reply.code()
        switch code {
        case .ok:
            let outcome: CancelOutcome = switch try reply.word(CancelScriptResult.self, "outcome") {
            case .cancelled: .cancelled
            case .requested: .requested
            }
            return CancelTaskReply(outcome: outcome, status: try reply.word(ContinuationStatus.self, "status"))
        case .noop:
            _ = try reply.word(CancelScriptResult.self, "outcome")
            return CancelTaskReply(outcome: .alreadyRequested, status: .done)
        default:
            throw code.error(subject: id, detail: reply.details())
        }
    }
}

/// ``CancelTaskCall``'s answer.
package struct CancelTaskReply: Sendable, Hashable {
    package var outcome: CancelOutcome
    package var status: ContinuationStatus
}

/// cancel.lua for a workflow: every unfinished task of it, a budget of tasks per call (`start`,
/// then `next` until the status is `done`).
package struct CancelWorkflowCall: ScriptCall {
    package static var script: RedisScript { Scripts.cancel }

    package var workflow: String
    package var message: String
    package var step: ContinuationStep = .start
    /// Who asked (the `by` field of the event entries); `nil`: nobody named.
    package var actor: String? = nil

    package var arguments: [RedisArgument] {
        [RedisArgument(CancelTarget.workflow.rawValue), RedisArgument(workflow), RedisArgument(message), RedisArgument(step.rawValue), RedisArgument(actor ?? "")]
    }

    /// `{1, cancelled, requested, status}` (totals so far) | a refusal.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> CancelWorkflowReply {
        let code = try reply.code()
        guard code == .ok else { throw code.error(subject: workflow, detail: reply.details()) }
        let totals = WorkflowCancellation(cancelled: try reply.int("cancelled"), requested: try reply.int("requested"))
        return CancelWorkflowReply(totals: totals, status: try reply.word(ContinuationStatus.self, "status"))
    }
}

/// ``CancelWorkflowCall``'s answer: the totals so far.
package struct CancelWorkflowReply: Sendable, Hashable {
    package var totals: WorkflowCancellation
    package var status: ContinuationStatus
}
