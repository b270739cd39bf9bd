import Foundation

/// The grammar of names and the limits on what a producer may submit.
///
/// Names (task ids, queues, handlers, workflows, namespaces, idempotency keys) are
/// `[A-Za-z0-9._-]{1,128}`: nothing that could break a Redis key (`:`, `{`, `}`), a log line,
/// a shell or a terminal (spaces, control characters, non-ASCII).
public enum Validation {
    public enum NameKind: String, Sendable {
        case taskID = "task id"
        case queue = "queue name"
        case handler = "handler name"
        case workflow = "workflow id"
        case run = "run id"
        case namespace = "namespace"
        case idempotencyKey = "idempotency key"
        case workerID = "worker id"
        case reason = "reason"
        case schedule = "schedule name"
        case concurrencyKey = "concurrency key"
        case rateKey = "rate key"
        case fairKey = "fair key"
        case signal = "signal name"
    }

    public static let maxNameLength = 128

    /// Throws `invalid_name` unless `name` matches `[A-Za-z0-9._-]{1,128}`.
    public static func check(name: String, as kind: NameKind) throws(JobqError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else {
            throw JobqError(.invalidName, "\(kind.rawValue) must not be empty", subject: name)
        }
        guard bytes.count <= maxNameLength else {
            throw JobqError(.invalidName, "\(kind.rawValue) is \(bytes.count) bytes; at most \(maxNameLength) allowed", subject: name)
        }
        if let bad = bytes.first(where: { !isNameByte($0) }) {
            let shown = (0x21...0x7E).contains(bad) ? "'\(Character(Unicode.Scalar(bad)))'" : String(format: "byte 0x%02X", bad)
            throw JobqError(
                .invalidName,
                "\(kind.rawValue) \(quoted(name)) contains \(shown); use only letters, digits, '.', '_' and '-'",
                subject: name
            )
        }
    }

    /// Throws `invalid_name` unless `id` is a task id: a name, or `run/key` (a task of a run,
    /// ``RunScope``) whose two parts are names.
    public static func check(taskID id: String) throws(JobqError) {
        if let (run, key) = RunScope.split(id) {
            do {
                try check(name: run, as: .run)
                try check(name: key, as: .taskID)
            } catch {
                throw JobqError(.invalidName, "task id \(quoted(id)) is not RUN/TASK with two valid names: \(error.message)", subject: id)
            }
        } else {
            try check(name: id, as: .taskID)
        }
    }

    package static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    /// A name for messages: control characters escaped, long names shortened.
    static func quoted(_ name: String) -> String {
        var shown = ""
        for scalar in name.unicodeScalars.prefix(60) {
            shown += scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7F
                ? String(scalar) : scalar.escaped(asASCII: true)
        }
        return "\"" + shown + (name.unicodeScalars.count > 60 ? "…" : "") + "\""
    }

    /// Throws unless `payload` is one well-formed JSON value within the size and depth limits.
    public static func check(payload: [UInt8], limits: Limits, what: String = "payload") throws(JobqError) {
        guard payload.count <= limits.maxPayloadBytes else {
            throw JobqError(
                .payloadTooLarge,
                "\(what) is \(payload.count) bytes; the limit is \(limits.maxPayloadBytes) (store large data elsewhere and pass a reference)"
            )
        }
        do {
            try JSONValidator(maxDepth: limits.maxPayloadDepth).validate(payload)
        } catch {
            switch error {
            case .tooDeep(let limit):
                throw JobqError(.invalidPayload, "\(what) JSON is nested deeper than \(limit) levels")
            case .syntax(let offset, let expected):
                throw JobqError(.invalidPayload, "\(what) is not valid JSON: expected \(expected) at byte \(offset)")
            }
        }
    }

    /// Throws `invalid_option` unless `value` lies in `range`.
    static func check<T: Comparable>(_ value: T, in range: ClosedRange<T>, _ what: String, unit: String = "") throws(JobqError) {
        guard range.contains(value) else {
            throw JobqError(.invalidOption, "\(what) must be between \(range.lowerBound)\(unit) and \(range.upperBound)\(unit); got \(value)\(unit)")
        }
    }
}
