import JobqRedis

/// retry.lua: re-open a FAILED or CANCELLED task and the dependents it took down.
package struct RetryCall: ScriptCall {
    package static var script: RedisScript { Scripts.retry }

    package var id: String

    package var arguments: [RedisArgument] { [RedisArgument(id)] }

    /// `{1, id, id, ...}` (the re-opened tasks, `id` first) | a refusal.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> [String] {
        let code = try reply.code()
        guard code == .ok else { throw code.error(subject: id, detail: reply.details()) }
        var ids: [String] = []
        while reply.remaining > 0 { ids.append(try reply.string("re-opened id")) }
        guard ids.first == id else { throw reply.malformed("the re-opened ids do not start with \(id)") }
        return ids
    }
}
