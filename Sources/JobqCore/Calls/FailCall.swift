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
            let (mode, delay): (FailMode, String) = switch failure.mode {
            case .retry(let delay): (.retry, String(delay.jobqMilliseconds))
            case .final: (.final, "0")
            case .handBack: (.handback, "0")
            case .cancelled: (.cancelled, "0")
            case .snooze(let delay, let retryDelay):
                // clamped: a snooze outside the range is the handler's mistake, refused before
                // this (OutcomeRules); one bad item must not make the script refuse the batch
                (.snooze, "\(min(max(delay, Limits.snoozeDelay.lowerBound), Limits.snoozeDelay.upperBound).jobqMilliseconds)/\(max(retryDelay, .zero).jobqMilliseconds)")
            }
            // The reason is a stable word; anything else is recorded as "error".
            let reason = (try? Validation.check(name: failure.reason, as: .reason)) != nil ? failure.reason : "error"
            arguments += [
                RedisArgument(failure.lease.id), RedisArgument(failure.lease.token), RedisArgument(mode.rawValue),
                RedisArgument(delay), RedisArgument(reason), RedisArgument(String(failure.message.prefix(4096))),
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
            case nil: nil
            }
        }
        return LeaseWriteBatch(outcomes: outcomes, cascadesLeft: cascadesLeft)
    }
}
