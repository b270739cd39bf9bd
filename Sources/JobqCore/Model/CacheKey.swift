/// A task's `cache_key`: a template whose expansion names its result, so that a later task with
/// the same expansion ends DONE at once with that result (reason `cached`) instead of running.
///
/// Grammar: literal text and placeholders; every `{` opens one, and a `}` closes it:
/// - `{handler}`: the task's handler name;
/// - `{payload}`: the payload bytes as submitted (hashed);
/// - `{result:KEY}`: the stored result of prerequisite KEY (hashed; a key of the same run, or a
///   full id), which must be a prerequisite of the task.
/// Nothing else is implicit: a template without `{handler}` shares its results with any handler
/// whose template expands the same. The scripts expand it when the task becomes ready (prelude.lua
/// `cache_digest`, with redis.sha1hex) and check it again on submit; this type checks it first
/// so that bad input is refused with `invalid_cache_key` before anything is sent.
public struct CacheKey: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case text(String)
        case handler
        case payload
        case result(String)
    }

    /// The template as written (stored in the task record, field `ckey`).
    public let template: String
    public let parts: [Part]

    /// Longest template accepted (the scripts refuse longer ones too).
    public static let maxBytes = 1024
    /// Most `{result:…}` placeholders in one template (each costs one HGET when it is expanded).
    public static let maxResults = 16

    public init(_ template: String) throws(JobqError) {
        guard !template.isEmpty else { throw JobqError(.invalidCacheKey, "cache_key is empty") }
        guard template.utf8.count <= Self.maxBytes else {
            throw JobqError(.invalidCacheKey, "cache_key is \(template.utf8.count) bytes; at most \(Self.maxBytes) allowed")
        }
        var parts: [Part] = []
        var rest = Substring(template)
        var results = 0
        while !rest.isEmpty {
            guard let brace = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) else {
                parts.append(.text(String(rest)))
                break
            }
            if rest[brace] == "}" { throw JobqError(.invalidCacheKey, "cache_key \(template): `}` without `{`") }
            if brace > rest.startIndex { parts.append(.text(String(rest[..<brace]))) }
            let inner = rest[rest.index(after: brace)...]
            guard let close = inner.firstIndex(of: "}") else { throw JobqError(.invalidCacheKey, "cache_key \(template): `{` is not closed") }
            let name = inner[..<close]
            switch name {
            case "handler": parts.append(.handler)
            case "payload": parts.append(.payload)
            default:
                guard name.hasPrefix("result:"), !name.dropFirst("result:".count).isEmpty, !name.contains("{") else {
                    throw JobqError(.invalidCacheKey, "cache_key \(template): unknown placeholder {\(name)}; use {handler}, {payload} or {result:TASK}")
                }
                results += 1
                parts.append(.result(String(name.dropFirst("result:".count))))
            }
            rest = inner[inner.index(after: close)...]
        }
        guard results <= Self.maxResults else {
            throw JobqError(.invalidCacheKey, "cache_key \(template) names \(results) results; at most \(Self.maxResults) allowed")
        }
        self.template = template
        self.parts = parts
    }

    /// The prerequisites whose results the key depends on.
    public var resultReferences: [String] {
        parts.compactMap { if case .result(let name) = $0 { return name } else { return nil } }
    }

    /// Throws `invalid_cache_key` when a `{result:X}` names a task that is not a prerequisite.
    public func validate(prerequisites: [String]) throws(JobqError) {
        let known = Set(prerequisites)
        for name in resultReferences where !known.contains(name) {
            throw JobqError(.invalidCacheKey, "cache_key \(template): {result:\(name)} names a task that is not a prerequisite; add it to `after`", subject: name)
        }
    }
}
