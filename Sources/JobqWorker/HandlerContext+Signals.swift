import Jobq
import JobqCore

/// What a handler waits for: a signal's name, how long at most, and the question when it asks.
struct SignalWait: Sendable, Hashable {
    let name: String
    let timeout: Duration?
    let question: SignalQuestion?
}

/// Signals and questions: a handler waits for `jobq signal TASK NAME` (or asks a question that
/// `jobq answer TASK CHOICE` answers) without holding a worker slot.
///
/// **The re-invocation model.** A wait does not park the handler's Swift task (that would hold a
/// slot, and die with the worker). When the signal is not there yet, `waitForSignal` throws: the
/// attempt ends, refunded, and the task waits in no queue. When the signal comes, the task is
/// queued and the handler is invoked again **from its start**; this time `waitForSignal` finds
/// the signal kept and returns it at once. So the code before a wait runs again: make it
/// idempotent, or skip finished work with a checkpoint (``checkpoint(_:)``). This is Hatchet's
/// durable-event model, not Temporal's replay (no history is replayed; the checkpoint is yours).
///
/// ```swift
/// let step = try context.checkpoint(as: Int.self) ?? 0
/// if step < 1 { try await prepare(); try await context.checkpoint(1) }
/// let approval = try await context.waitForSignal("approve", as: Approval.self, timeout: .seconds(3600))
/// if try await context.ask("Overwrite \(name)?", choices: ["yes", "no"]) == "yes" { ... }
/// ```
///
/// A signal sent before the wait begins (while the handler runs) is kept, and the wait returns
/// it at once. A wait that times out ends the task FAILED, reason `signal_timeout`.
extension HandlerContext {
    /// The signals (and answers) the task keeps, by name, as JSON: what this invocation's claim
    /// delivered.
    public var signals: [String: [UInt8]] {
        guard let bytes = run.claimed.signals, case .object(let pairs)? = try? JobqCore.JSONValue.parse(bytes) else { return [:] }
        var signals: [String: [UInt8]] = [:]
        for (name, value) in pairs { signals[name] = value.bytes }
        return signals
    }

    /// The answer to the question most recently answered for the first time (answers are kept
    /// in arrival order): a command handler's `JOBQ_ANSWER`.
    var latestAnswer: String? {
        guard let bytes = run.claimed.signals, case .object(let pairs)? = try? JobqCore.JSONValue.parse(bytes) else { return nil }
        return pairs.last { $0.0.hasPrefix("ask-") }?.1.stringValue
    }

    /// The payload (JSON) of the kept signal `name`; `nil` when it has not come.
    public func rawSignal(_ name: String) -> [UInt8]? { signals[name] }

    /// The kept signal `name` decoded as `T`; `nil` when it has not come.
    public func signal<T: Decodable>(_ name: String, as type: T.Type = T.self) throws(JobqError) -> T? {
        guard let bytes = rawSignal(name) else { return nil }
        return try PayloadCoding.decode(T.self, from: bytes)
    }

    /// The payload of the signal `name`: at once when it is kept; otherwise this throws, the task
    /// waits (holding no slot) and the handler runs again from its start when the signal comes.
    /// After `timeout` (none: forever) without it, the task ends FAILED (`signal_timeout`).
    public func waitForSignal(_ name: String, timeout: Duration? = nil) async throws -> [UInt8] {
        try Validation.check(name: name, as: .signal)
        if let payload = rawSignal(name) { return payload }
        throw HandlerError.waiting(SignalWait(name: name, timeout: timeout, question: nil))
    }

    /// ``waitForSignal(_:timeout:)`` decoded as `T`.
    public func waitForSignal<T: Decodable>(_ name: String, as type: T.Type, timeout: Duration? = nil) async throws -> T {
        try PayloadCoding.decode(T.self, from: try await waitForSignal(name, timeout: timeout))
    }

    /// Asks `question`, offering `choices` (upsies' prompts): the answer once `jobq answer TASK
    /// CHOICE` gave it; until then the task waits as for a signal (`jobq status` shows the
    /// question). Each question's answer is kept apart, so a handler may ask several in turn.
    public func ask(_ question: String, choices: [String], timeout: Duration? = nil) async throws -> String {
        let asked = try SignalQuestion(question, choices: choices)
        if let bytes = rawSignal(asked.signalName), let answer = try? JobqCore.JSONValue.parse(bytes).stringValue {
            return answer
        }
        throw HandlerError.waiting(SignalWait(name: asked.signalName, timeout: timeout, question: asked))
    }
}

extension HandlerError {
    static func waiting(_ wait: SignalWait) -> HandlerError {
        let what = wait.question.map { "asks: \($0.question)" } ?? "waits for the signal \(wait.name)"
        return HandlerError(kind: .wait, reason: "waiting", message: what, signalWait: wait)
    }
}
