import JobqRedis

/// A script's reply, read front to back by a call's decoder.
///
/// Every read checks the shape: a reply that is too short, or an element of the wrong type,
/// throws `internal_error` naming the script and the position — a decoder never fills in a
/// default, so a client and scripts that disagree fail loudly instead of inventing data.
package struct ScriptReply: Sendable {
    package let script: String
    private let values: [RedisValue]
    private var position = 0

    /// The elements of `value`, which must be an array whose first element is an integer status.
    package init(script: String, value: RedisValue) throws(JobqError) {
        guard let values = value.array, case .integer = values.first else {
            throw JobqError(.internalError, "script \(script) returned \(value), not a status array")
        }
        self.script = script
        self.values = values
    }

    /// Elements not read yet.
    package var remaining: Int { values.count - position }

    /// The status code (the first element): one of ``ScriptCode``.
    package mutating func code() throws(JobqError) -> ScriptCode {
        let raw = try int("status")
        guard let code = ScriptCode(rawValue: raw) else { throw malformed("unknown status \(raw)") }
        return code
    }

    /// An integer: an integer reply, or a bulk string holding a decimal integer.
    package mutating func int(_ what: String) throws(JobqError) -> Int {
        let value = try next(what)
        switch value {
        case .integer(let number): return number
        case .bulk, .status:
            if let text = value.string, let number = Int(text) { return number }
        default: break
        }
        throw malformed("\(what) is \(value), not an integer")
    }

    /// Every element left, each a string (a reply that ends in a list of ids).
    package mutating func remainingStrings(_ what: String) throws(JobqError) -> [String] {
        var strings: [String] = []
        strings.reserveCapacity(remaining)
        while remaining > 0 { strings.append(try string(what)) }
        return strings
    }

    /// A 0/1 flag; anything else is malformed.
    package mutating func flag(_ what: String) throws(JobqError) -> Bool {
        switch try int(what) {
        case 0: return false
        case 1: return true
        case let other: throw malformed("\(what) is \(other), not 0 or 1")
        }
    }

    /// A string (bulk or status reply).
    package mutating func string(_ what: String) throws(JobqError) -> String {
        let value = try next(what)
        guard let text = value.string else { throw malformed("\(what) is \(value), not a string") }
        return text
    }

    /// Raw bytes (bulk or status reply).
    package mutating func bytes(_ what: String) throws(JobqError) -> [UInt8] {
        let value = try next(what)
        guard let bytes = value.bytes else { throw malformed("\(what) is \(value), not a string") }
        return bytes
    }

    /// A task state name; `''` (no such task, as some scripts answer) is `nil`.
    package mutating func optionalState(_ what: String) throws(JobqError) -> TaskState? {
        let text = try string(what)
        if text.isEmpty { return nil }
        guard let state = TaskState(rawValue: text) else { throw malformed("\(what) is \"\(text)\", not a task state") }
        return state
    }

    /// A task state name.
    package mutating func state(_ what: String) throws(JobqError) -> TaskState {
        guard let state = try optionalState(what) else { throw malformed("\(what) is empty, not a task state") }
        return state
    }

    /// A word of a closed set (a `RawRepresentable` string enum).
    package mutating func word<Word: RawRepresentable>(_ type: Word.Type, _ what: String) throws(JobqError) -> Word where Word.RawValue == String {
        let text = try string(what)
        guard let word = Word(rawValue: text) else { throw malformed("\(what) is \"\(text)\", not a \(Word.self)") }
        return word
    }

    /// What follows a refusal code: its details as text, for the error message.
    package mutating func details() -> [String] {
        defer { position = values.count }
        return values[position...].map { $0.string ?? $0.int.map(String.init) ?? "" }
    }

    /// Checks that every element was read.
    package func end() throws(JobqError) {
        guard remaining == 0 else { throw malformed("\(remaining) unexpected trailing elements") }
    }

    /// The error for a reply of the wrong shape.
    package func malformed(_ what: String) -> JobqError {
        JobqError(.internalError, "script \(script): reply element \(position): \(what) (client and scripts disagree)")
    }

    private mutating func next(_ what: String) throws(JobqError) -> RedisValue {
        guard position < values.count else { throw malformed("reply ends before \(what)") }
        defer { position += 1 }
        return values[position]
    }
}
