/// A task's fleet-wide concurrency limit: at most ``limit`` tasks with the same expanded
/// ``key`` RUNNING at once, across every worker (limit 1: one at a time, in order).
///
/// The key is a template: literal text plus `{payload.a.b}` placeholders over the task's JSON
/// payload, expanded here, at submit time (`tenant-{payload.tenant}` → `tenant-42`), so the
/// scripts only ever see a plain name. Expanding in Swift keeps the hot path (claim) free of JSON
/// work and lets bad input be refused before anything is sent. Key and limit are one value: a
/// key without a limit (or the reverse) cannot be expressed, so there is no default to guess.
public struct ConcurrencyLimit: Sendable, Hashable {
    /// The key template as written.
    public var key: String
    /// How many tasks of the key may run at once (1...``maxLimit``).
    public var limit: Int

    /// More than this is almost certainly a typo for "no limit".
    public static let maxLimit = 10_000

    public init(key: String, limit: Int) {
        self.key = key
        self.limit = limit
    }

    /// The key for this payload: placeholders replaced by the payload's scalar values (a string
    /// as is; a number, `true` or `false` as written). Throws `invalid_option` naming the field
    /// when it is missing or not a scalar, or when the payload is not a JSON object where a path
    /// goes through it; `invalid_name` when the expansion is not a name
    /// (`[A-Za-z0-9._-]{1,128}`), since it becomes part of Redis keys.
    public func expandedKey(payload: [UInt8], subject: String? = nil) throws(JobqError) -> String {
        try Self.expand(key, option: "concurrency_key", payload: payload, subject: subject)
    }

    /// Expands a key template (`option` names it in errors: `concurrency_key`, `unique_key`):
    /// shared by every key-by-payload feature, so they accept and refuse the same templates.
    package static func expand(_ key: String, option: String, payload: [UInt8], subject: String?) throws(JobqError) -> String {
        var expanded = ""
        var rest = Substring(key)
        var document: JSONValue?
        while let open = rest.firstIndex(of: "{") {
            expanded += rest[..<open]
            let inner = rest[rest.index(after: open)...]
            guard let close = inner.firstIndex(of: "}") else {
                throw JobqError(.invalidOption, "\(option) \(key): `{` is not closed", subject: subject)
            }
            let name = String(inner[..<close])
            guard name.hasPrefix("payload."), name.count > "payload.".count else {
                throw JobqError(.invalidOption, "\(option) \(key): unknown placeholder {\(name)}; use {payload.FIELD} (a dotted path into the payload)", subject: subject)
            }
            if document == nil {
                document = (try? JSONValue.parse(payload)) ?? .null
            }
            expanded += try Self.scalar(at: name, in: document ?? .null, template: "\(option) \(key)", subject: subject)
            rest = inner[inner.index(after: close)...]
        }
        expanded += rest
        do {
            try Validation.check(name: expanded, as: .concurrencyKey)
        } catch {
            throw JobqError(.invalidName, "\(option) \(key) expands to an invalid key: \(error.message)", subject: subject)
        }
        return expanded
    }

    /// The text of the scalar at `path` ("payload.a.b").
    private static func scalar(at path: String, in document: JSONValue, template: String, subject: String?) throws(JobqError) -> String {
        var value = document
        for component in path.split(separator: ".", omittingEmptySubsequences: false).dropFirst() {
            guard let next = value[String(component)] else {
                throw JobqError(.invalidOption, "\(template): the payload has no field \(path)", subject: subject)
            }
            value = next
        }
        switch value {
        case .string(let text): return text
        case .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null, .array, .object:
            throw JobqError(.invalidOption, "\(template): the payload's \(path) is not a string, number or boolean", subject: subject)
        }
    }

    /// Checks the limit and the key against `payload`.
    public func validate(payload: [UInt8], subject: String? = nil) throws(JobqError) {
        guard (1...Self.maxLimit).contains(limit) else {
            throw JobqError(.invalidOption, "concurrency_limit must be from 1 to \(Self.maxLimit) tasks running at once; got \(limit)", subject: subject)
        }
        _ = try expandedKey(payload: payload, subject: subject)
    }

    /// What submit.lua takes (and the task record keeps as `climit`): `N KEY`, the key expanded.
    package func scriptArgument(payload: [UInt8]) throws(JobqError) -> String {
        "\(limit) " + (try expandedKey(payload: payload))
    }
}
