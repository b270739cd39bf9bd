import JobqRedis

/// doctor.lua: check (or repair) one batch of suspects of one kind.
package struct DoctorCall: ScriptCall {
    package static var script: RedisScript { Scripts.doctor }

    package var mode: DoctorMode
    package var action: DoctorItem.Action
    package var items: [DoctorItem]

    package var arguments: [RedisArgument] {
        var arguments: [RedisArgument] = [RedisArgument(mode.rawValue), RedisArgument(action.rawValue)]
        for item in items {
            if let location = item.location { arguments.append(RedisArgument(location)) }
            arguments.append(RedisArgument(item.task))
        }
        return arguments
    }

    /// `{1, answer per item}`.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> [String] {
        try reply.expectOK()
        guard reply.remaining == items.count else { throw reply.malformed("\(reply.remaining) answers for \(items.count) items") }
        var answers: [String] = []
        answers.reserveCapacity(items.count)
        for _ in items { answers.append(try reply.string("answer")) }
        return answers
    }
}
