import JobqRedis

/// fail.lua: runs that did not succeed — retry later, fail for good, hand back, or cancelled.
package struct FailCall: ScriptCall {
    package static var script: RedisScript { Scripts.fail }

    package var failures: [Failure]

    package var arguments: [RedisArgument] {
        var arguments: [RedisArgument] = []
        arguments.reserveCapacity(failures.count * 6)
        for failure in failures {
            let (mode, delay): (FailMode, Int64) = switch failure.mode {
            case .retry(let delay): (.retry, delay.jobqMilliseconds)
            case .final: (.final, 0)
            case .handBack: (.handback, 0)
            case .cancelled: (.cancelled, 0)
            }
            // The reason is a stable word; anything else is recorded as "error".
            let reason = (try? Validation.check(name: failure.reason, as: .reason)) != nil ? failure.reason : "error"
            arguments += [
                RedisArgument(failure.lease.id), RedisArgument(failure.lease.token), RedisArgument(mode.rawValue),
                RedisArgument(Int(delay)), RedisArgument(reason), RedisArgument(String(failure.message.prefix(4096))),
            ]
        }
        return arguments
    }

    /// `{1, cascades left, code per task}`: one of ``FailItemCode``, or a refusal.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> LeaseWriteBatch {
        try reply.expectOK()
        let cascadesLeft = try reply.flag("cascades left")
        let outcomes = try reply.itemOutcomes(count: failures.count) { raw in
            switch FailItemCode(rawValue: raw) {
            case .retrying: .retrying
            case .failed: .failed
            case .cancelled: .cancelled
            case .handedBack: .handedBack
            case nil: nil
            }
        }
        return LeaseWriteBatch(outcomes: outcomes, cascadesLeft: cascadesLeft)
    }
}
