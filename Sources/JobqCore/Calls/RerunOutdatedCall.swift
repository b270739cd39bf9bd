import JobqRedis

/// rerun.lua: re-open a run's OUTDATED tasks and every task of the run depending on them, in
/// place, a budget of tasks per call (`start`, then `next` until the status is `done`).
package struct RerunOutdatedCall: ScriptCall {
    package static var script: RedisScript { Scripts.rerun }

    package var run: String
    package var step: ContinuationStep = .start

    package var arguments: [RedisArgument] { [RedisArgument(step.rawValue), RedisArgument(run)] }

    /// `{1, status, id, id, ...}` (the tasks this call re-opened) | a refusal.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> RetryReply {
        let code = try reply.code()
        guard code == .ok else { throw code.error(subject: run, detail: reply.details()) }
        let status = try reply.word(ContinuationStatus.self, "status")
        return RetryReply(status: status, reopened: try reply.remainingStrings("re-opened id"))
    }
}
