import JobqRedis

/// signal.lua: a signal (or an answer) for a task, kept in its record; resumes it when it waits
/// for that very signal.
package struct SignalCall: ScriptCall {
    package static var script: RedisScript { Scripts.signal }

    package enum Kind: Sendable {
        case signal(name: String, payload: [UInt8])
        case answer(choice: String)
    }

    package var id: String
    package var kind: Kind
    /// Who sent it (the `by` field of the event entry); `nil`: nobody named.
    package var actor: String? = nil

    package var arguments: [RedisArgument] {
        switch kind {
        case .signal(let name, let payload):
            [RedisArgument(id), RedisArgument("signal"), RedisArgument(name), RedisArgument(bytes: payload), RedisArgument(actor ?? "")]
        case .answer(let choice):
            [RedisArgument(id), RedisArgument("answer"), RedisArgument(choice), RedisArgument(""), RedisArgument(actor ?? "")]
        }
    }

    /// `{1, 'resumed' | 'kept'}` or a refusal: `not_found`, `invalid_state` (ended), and
    /// `{-9, why}` as the stable codes of bad input.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> SignalDelivery {
        let code = try reply.code()
        switch code {
        case .ok:
            let word = try reply.string("delivery")
            return word == "resumed" ? .resumed : .kept
        case .notFound:
            throw JobqError(.notFound, "no task \(id)", subject: id)
        case .wrongState:
            let state = try reply.string("state")
            throw JobqError(.invalidState, "task \(id) has ended (\(state)): it waits for nothing", subject: id)
        case .invalidArgument:
            let why = try reply.string("what")
            switch why {
            case "asks_nothing": throw JobqError(.notAsking, "task \(id) asks no question now", subject: id)
            case "answer": throw JobqError(.invalidAnswer, "not one of the choices task \(id) offers (see jobq status \(id))", subject: id)
            case "payload": throw JobqError(.payloadTooLarge, "a signal's payload is at most \(Limits.signalMaxBytes) bytes", subject: id)
            case "signals": throw JobqError(.invalidOption, "task \(id) keeps \(Limits.signalsKeptMax) signals already; no more names", subject: id)
            default: throw code.error(subject: id, detail: [why])
            }
        default:
            throw code.error(subject: id, detail: reply.details())
        }
    }
}

/// What a signal did: resumed a task that waited for it, or was kept for a wait to come.
public enum SignalDelivery: String, Sendable, Hashable {
    case resumed
    case kept
}
