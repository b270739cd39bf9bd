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
        try template.expand(payload: payload, subject: subject)
    }

    private var template: KeyTemplate { KeyTemplate(template: key, option: "concurrency_key", kind: .concurrencyKey) }

    /// Checks the limit and the key against `payload` (a map template's: `deferringElements`,
    /// ``KeyTemplate/expand(payload:subject:deferringElements:)``).
    public func validate(payload: [UInt8], subject: String? = nil, deferringElements: Bool = false) throws(JobqError) {
        guard (1...Self.maxLimit).contains(limit) else {
            throw JobqError(.invalidOption, "concurrency_limit must be from 1 to \(Self.maxLimit) tasks running at once; got \(limit)", subject: subject)
        }
        _ = try template.expand(payload: payload, subject: subject, deferringElements: deferringElements)
    }

    /// What submit.lua takes (and the task record keeps as `climit`): `N KEY`, the key expanded.
    package func scriptArgument(payload: [UInt8]) throws(JobqError) -> String {
        "\(limit) " + (try expandedKey(payload: payload))
    }
}
