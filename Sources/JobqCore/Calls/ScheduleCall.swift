import JobqRedis

/// schedule.lua: a schedule record's changes, and the claim and advance of its ticks.
package struct ScheduleCall: ScriptCall {
    package static var script: RedisScript { Scripts.schedule }

    package enum Action: Sendable {
        /// Creates the record (or replaces it) with `next` as its first fire time.
        case add(fields: [(String, String)], next: Int64, replace: Bool)
        /// Records the decision for tick `tick`, unless one was recorded first.
        case claim(tick: Int64, decision: TickOutcome)
        /// Moves the next fire time from `tick` (claimed) to `next`, storing the outcome.
        case advance(tick: Int64, next: Int64, run: String?, outcome: TickOutcome)
        /// Overlap `buffer`: keeps `tick` next (marked buffered) and looks at it again from
        /// `recheck` on.
        case wait(tick: Int64, recheck: Int64)
        /// A schedule that could not fire: looked at again from `recheck` on, if its index
        /// score is still `seen` (as the failed pass read it).
        case later(seen: String, recheck: Int64)
        case pause
        case resume(next: Int64)
        case remove
        /// `schedule trigger` started `run`.
        case triggered(run: String)
    }

    /// What the script answered.
    package enum Answer: Sendable, Equatable {
        /// Done (`claim`: the decision in force, which may be another process's).
        case done(decision: TickOutcome?)
        /// Nothing to do: already so, or (claim, advance) the tick is not the next one any more.
        case unchanged
    }

    package var name: String
    package var action: Action

    package var arguments: [RedisArgument] {
        switch action {
        case .add(let fields, let next, let replace):
            var arguments: [RedisArgument] = [
                RedisArgument(ScheduleAction.add.rawValue), RedisArgument(name), RedisArgument(replace ? "1" : "0"),
                RedisArgument(Int(next)), RedisArgument(fields.count),
            ]
            for (field, value) in fields { arguments += [RedisArgument(field), RedisArgument(value)] }
            return arguments
        case .claim(let tick, let decision):
            return [RedisArgument(ScheduleAction.claim.rawValue), RedisArgument(name), RedisArgument(Int(tick)), RedisArgument(decision.rawValue)]
        case .advance(let tick, let next, let run, let outcome):
            return [
                RedisArgument(ScheduleAction.advance.rawValue), RedisArgument(name), RedisArgument(Int(tick)),
                RedisArgument(Int(next)), RedisArgument(run ?? ""), RedisArgument(outcome.rawValue),
            ]
        case .wait(let tick, let recheck):
            return [RedisArgument(ScheduleAction.wait.rawValue), RedisArgument(name), RedisArgument(Int(tick)), RedisArgument(Int(recheck))]
        case .later(let seen, let recheck):
            return [RedisArgument(ScheduleAction.later.rawValue), RedisArgument(name), RedisArgument(seen), RedisArgument(Int(recheck))]
        case .pause:
            return [RedisArgument(ScheduleAction.pause.rawValue), RedisArgument(name)]
        case .resume(let next):
            return [RedisArgument(ScheduleAction.resume.rawValue), RedisArgument(name), RedisArgument(Int(next))]
        case .remove:
            return [RedisArgument(ScheduleAction.remove.rawValue), RedisArgument(name)]
        case .triggered(let run):
            return [RedisArgument(ScheduleAction.triggered.rawValue), RedisArgument(name), RedisArgument(run)]
        }
    }

    /// `{1}`, `{1, decision}` (claim), `{0}`, `{0, next}` (claim), or a refusal.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> Answer {
        let code = try reply.code()
        switch code {
        case .ok:
            guard case .claim = action else { return .done(decision: nil) }
            let word = try reply.string("decision")
            guard let decision = TickOutcome(rawValue: word) else {
                throw JobqError(.internalError, "script schedule returned the decision \"\(word)\"")
            }
            return .done(decision: decision)
        case .noop:
            if case .claim = action { _ = try reply.string("next fire time") }
            return .unchanged
        case .notFound:
            throw JobqError(.notFound, "no schedule \(name)", subject: name)
        default:
            throw code.error(subject: name, detail: reply.details())
        }
    }
}
