import JobqRedis

/// queue.lua: pause or resume a queue that tasks have used.
package struct QueueCall: ScriptCall {
    package static var script: RedisScript { Scripts.queue }

    package var action: QueueAction
    package var queue: String
    /// Pause a queue that no task used yet (it becomes known).
    package var allowNew = false
    /// Who asked; with one, a change leaves an `@queue:NAME` event line naming it.
    package var actor: String? = nil

    package var arguments: [RedisArgument] {
        [RedisArgument(action.rawValue), RedisArgument(queue), RedisArgument(allowNew ? "1" : "0"), RedisArgument(actor ?? "")]
    }

    /// `{1}` changed | `{0}` already so | `{-1}` no task ever used the queue.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> Bool {
        let code = try reply.code()
        switch code {
        case .ok: return true
        case .noop: return false
        case .notFound:
            throw JobqError(.notFound, "no queue \(queue): no task was ever submitted to it (see jobq queues)\(action == .pause ? "; to pause it before its first task, pass --new" : "")", subject: queue)
        default: throw code.error(subject: queue, detail: reply.details())
        }
    }
}
