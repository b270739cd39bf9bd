import JobqRedis

/// A question a handler asks (`context.ask`, a command handler's `JOBQ_ASK` line): the task waits,
/// holding no slot, until `jobq answer TASK CHOICE` gives one of the choices.
///
/// The answer is kept as a signal named ``signalName`` — derived from the question's text, so a
/// handler that asks several questions finds each one's answer when it is invoked again from its
/// start (the re-invocation model, docs/worker.md), and a new question never reads an old answer.
public struct SignalQuestion: Sendable, Hashable {
    public let question: String
    public let choices: [String]

    /// Throws `invalid_option` for an empty or over-long question, or no, too many, empty or
    /// repeated choices.
    public init(_ question: String, choices: [String]) throws(JobqError) {
        guard !question.isEmpty, question.utf8.count <= Limits.questionMaxBytes else {
            throw JobqError(.invalidOption, "a question must have 1 to \(Limits.questionMaxBytes) bytes")
        }
        guard !choices.isEmpty, choices.count <= Limits.choicesMax,
              choices.allSatisfy({ !$0.isEmpty && $0.utf8.count <= Validation.maxNameLength }),
              Set(choices).count == choices.count
        else {
            throw JobqError(.invalidOption, "a question needs 1 to \(Limits.choicesMax) distinct, non-empty choices of at most \(Validation.maxNameLength) bytes")
        }
        self.question = question
        self.choices = choices
    }

    /// The signal the answer is kept as: `ask-` and 12 hex digits of the question's SHA-1.
    public var signalName: String {
        "ask-" + SHA1.digest(Array(question.utf8)).prefix(6).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    /// What the record keeps as `asking` (fail.lua checks its shape, signal.lua the choice).
    package var json: String {
        JSONValue.object([("question", .string(question)), ("choices", .array(choices.map { .string($0) }))]).rendered()
    }

    /// The stored `asking` field read back; `nil` for `''` or anything unreadable.
    package init?(stored: String) {
        guard !stored.isEmpty, let value = try? JSONValue.parse(Array(stored.utf8)),
              let question = value["question"]?.stringValue, case .array(let items)? = value["choices"]
        else { return nil }
        self.question = question
        self.choices = items.compactMap(\.stringValue)
    }
}
