import JobqRedis

/// fail.lua: runs that did not succeed — retry later, fail for good, hand back, or cancelled.
package struct FailCall: ScriptCall {
    package static var script: RedisScript { Scripts.fail }

    package var failures: [Failure]

    package var arguments: [RedisArgument] {
        var arguments: [RedisArgument] = []
        arguments.reserveCapacity(failures.count * 6)
        for failure in failures {
            // A snooze carries its delay and the backoff for the limit case: "snooze_ms/retry_ms".
            var reason = failure.reason, message = String(failure.message.prefix(4096))
            let (mode, delay): (FailMode, String) = switch failure.mode {
            case .retry(let delay): (.retry, String(delay.jobqMilliseconds))
            case .final: (.final, "0")
            case .handBack: (.handback, "0")
            case .cancelled: (.cancelled, "0")
            case .snooze(let delay, let retryDelay):
                // clamped: a snooze outside the range is the handler's mistake, refused before
                // this (OutcomeRules); one bad item must not make the script refuse the batch
                (.snooze, "\(min(max(delay, Limits.snoozeDelay.lowerBound), Limits.snoozeDelay.upperBound).jobqMilliseconds)/\(max(retryDelay, .zero).jobqMilliseconds)")
            case .rateLimited(let delay, let retryDelay):
                (.ratelimited, "\(min(max(delay, Limits.snoozeDelay.lowerBound), Limits.snoozeDelay.upperBound).jobqMilliseconds)/\(max(retryDelay, .zero).jobqMilliseconds)")
            case .children: (.children, "0")
            case .wait(_, let timeout, _):
                // the reason carries the signal's name, the message the question (fail.lua 'wait')
                (.wait, String(max(timeout ?? .zero, .zero).jobqMilliseconds))
            }
            if case .wait(let name, _, let question) = failure.mode {
                reason = name
                message = question?.json ?? ""
            }
            // The reason is a stable word; anything else is recorded as "error" (a bad wait name is
            // refused by the script, item by item).
            if mode != .wait, (try? Validation.check(name: reason, as: .reason)) == nil { reason = "error" }
            arguments += [
                RedisArgument(failure.lease.id), RedisArgument(failure.lease.token), RedisArgument(mode.rawValue),
                RedisArgument(delay), RedisArgument(reason), RedisArgument(message),
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
            case .snoozed: .snoozed
            case .waiting: .waiting
            case nil: nil
            }
        }
        return LeaseWriteBatch(outcomes: outcomes, cascadesLeft: cascadesLeft)
    }
}
