import JobqRedis

/// progress.lua: a running task's progress entries and log lines, fenced.
package struct ProgressCall: ScriptCall {
    package static var script: RedisScript { Scripts.progress }

    package var lease: TaskLease
    package var logCap: Int
    package var entries: [ProgressEntry]
    package var lines: [String]
    /// The handler's checkpoint (JSON) to save, if this call carries one.
    package var checkpoint: [UInt8]? = nil

    package var arguments: [RedisArgument] {
        var arguments: [RedisArgument] = [
            RedisArgument(lease.id), RedisArgument(lease.token), RedisArgument(logCap),
            RedisArgument(bytes: checkpoint ?? []), RedisArgument(entries.count),
        ]
        for entry in entries {
            arguments += [
                RedisArgument(entry.group.joined(separator: "/")),
                RedisArgument("\(entry.current)/\(entry.total)"),
                RedisArgument(String(entry.status.prefix(500))),
            ]
        }
        return arguments + lines.map { RedisArgument(String($0.prefix(4096))) }
    }

    /// `{1}` | `{-1}` | `{-2, state}` | `{-3}`: the refusals are outcomes, not errors.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> LeaseWriteOutcome {
        let code = try reply.code()
        switch code {
        case .ok: return .extended
        case .notFound: return .refused(.notFound)
        case .wrongState:
            _ = try reply.string("state")
            return .refused(.invalidState)
        case .staleToken: return .refused(.staleToken)
        default: throw code.error(subject: lease.id, detail: reply.details())
        }
    }
}
