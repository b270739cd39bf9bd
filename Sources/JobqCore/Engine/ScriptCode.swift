/// The status codes the Lua scripts return in the first element of their reply (and, for batch
/// scripts, per item). The Lua constants (`OK`, `NOT_FOUND`, …) are rendered from this enum
/// into every script (``ScriptConstants``), so the numbers exist in one place only.
package enum ScriptCode: Int, Sendable, Hashable, CaseIterable {
    case ok = 1
    case noop = 0
    case notFound = -1
    case wrongState = -2
    case staleToken = -3
    case unknownDependency = -4
    case duplicateID = -5
    case cycle = -6
    case idempotencyConflict = -7
    case prerequisiteFailed = -8
    case invalidArgument = -9
    case runExists = -10
    case deadlinePassed = -11
    case scheduleExists = -12
    /// submit.lua: a unique key of a submission of several tasks (or a run) is held.
    case uniqueHeld = -13

    /// The producer-facing error for a refusal, with a message that says what to do.
    func error(subject: String?, detail: [String] = []) -> JobqError {
        let who = subject ?? "?"
        switch self {
        case .ok, .noop:
            return JobqError(.internalError, "script reported success where a refusal was expected", subject: subject)
        case .notFound:
            return JobqError(.notFound, "no task or workflow \(who) (it may never have existed, or its retention expired)", subject: subject)
        case .wrongState:
            let state = detail.first ?? "its current state"
            return JobqError(.invalidState, "\(who) is \(state); that change is not allowed from there", subject: subject)
        case .staleToken:
            return JobqError(.staleToken, "\(who): this lease is no longer current (the task was re-claimed); nothing was changed", subject: subject)
        case .unknownDependency:
            let prerequisite = detail.count > 1 ? detail[1] : "?"
            return JobqError(.unknownDependency, "task \(detail.first ?? who) requires \(prerequisite), which does not exist; submit it first or in the same workflow", subject: detail.first ?? subject)
        case .duplicateID:
            return JobqError(.duplicateID, "a task with id \(detail.first ?? who) already exists; choose another id or omit it to get a generated one", subject: detail.first ?? subject)
        case .cycle:
            return JobqError(.cycle, "the dependencies form a cycle among: \(detail.joined(separator: ", "))", subject: detail.first ?? subject)
        case .idempotencyConflict:
            return JobqError(.idempotencyConflict, "idempotency key \(detail.first ?? who) was already used for a different submission", subject: detail.first ?? subject)
        case .prerequisiteFailed:
            return JobqError(.prerequisiteFailed, "\(who) cannot be retried while its prerequisite \(detail.first ?? "?") is failed or cancelled; retry that one first", subject: subject)
        case .runExists:
            return JobqError(.runExists, "a run with id \(detail.first ?? who) already exists; choose another --run id or omit it to get a generated one", subject: detail.first ?? subject)
        case .deadlinePassed:
            // detail: the value, and what it was ("expires" for a task's expiry; a run's deadline otherwise)
            let expiry = detail.count > 2 && detail[1] == "expires"
            return JobqError(.invalidOption, "\(expiry ? "the task's expiry" : "the run's deadline") is not in the future (Redis time); give a later time or a duration such as 30m",
                             subject: expiry ? detail[2] : subject)
        case .scheduleExists:
            return JobqError(.scheduleExists, "a schedule named \(who) already exists; remove it first or add it again with --replace", subject: subject)
        case .uniqueHeld:
            // detail: the key, the task holding it, its state
            let holder = detail.count > 1 ? detail[1] : "?"
            let state = detail.count > 2 ? " (\(detail[2]))" : ""
            return JobqError(.uniqueHeld, "unique key \(detail.first ?? who) is held by task \(holder)\(state); nothing was submitted (a submission of several tasks, or a run, is refused whole)", subject: holder)
        case .invalidArgument:
            return JobqError(.internalError, "script rejected its arguments (\(detail.joined(separator: " "))): client and scripts disagree", subject: subject)
        }
    }
}
