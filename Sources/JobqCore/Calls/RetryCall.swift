import JobqRedis

/// retry.lua: re-open a FAILED or CANCELLED task and the dependents it took down, a budget of
/// tasks per call (`start`, then `next` until the status is `done`).
package struct RetryCall: ScriptCall {
    package static var script: RedisScript { Scripts.retry }

    package var id: String
    package var step: ContinuationStep = .start
    /// Who asked (the `by` field of the event entries); `nil`: nobody named.
    package var actor: String? = nil

    package var arguments: [RedisArgument] { [RedisArgument(step.rawValue), RedisArgument(id), RedisArgument(actor ?? "")] }

    /// `{1, status, id, id, ...}` (the tasks this call re-opened) | a refusal.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> RetryReply {
        let code = try reply.code()
        guard code == .ok else { throw code.error(subject: id, detail: reply.details()) }
        let status = try reply.word(ContinuationStatus.self, "status")
        return RetryReply(status: status, reopened: try reply.remainingStrings("re-opened id"))
    }
}

/// ``RetryCall``'s answer.
package struct RetryReply: Sendable, Hashable {
    package var status: ContinuationStatus
    /// The tasks this call re-opened.
    package var reopened: [String]
}
