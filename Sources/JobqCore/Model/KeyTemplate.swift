/// A limit key template — literal text plus `{payload.a.b}` placeholders over the task's JSON
/// payload — and its expansion, shared by concurrency keys (``ConcurrencyLimit``), unique keys
/// (``Uniqueness``) and rate keys (``RateLimit``): all are expanded once, at submit time (`tenant-{payload.tenant}` →
/// `tenant-42`), so the scripts only ever see a plain name and bad input is refused before
/// anything is sent.
package struct KeyTemplate: Sendable {
    /// The template as written.
    package var template: String
    /// How errors name the setting: `concurrency_key`, `unique_key`, `rate_key`.
    package var option: String
    /// The name grammar the expansion is checked against.
    package var kind: Validation.NameKind

    /// The key for this payload: placeholders replaced by the payload's scalar values (a string
    /// as is; a number, `true` or `false` as written). Throws `invalid_option` naming the field
    /// when it is missing or not a scalar, or when the payload is not a JSON object where a path
    /// goes through it; `invalid_name` when the expansion is not a name
    /// (`[A-Za-z0-9._-]{1,128}`), since it becomes part of Redis keys.
    ///
    /// `deferringElements`: the payload is a map's template (``MapRequest``), whose `!item` /
    /// `!index` placeholders become each element when the map expands; a path that reaches one
    /// (`{payload.file.tenant}` with `file: !item`) cannot be checked now, so it stands for
    /// ``elementStandIn`` here and is expanded, per child, when the child run is submitted (a
    /// child whose element lacks the field fails the map with `bad_payload`). Paths beside the
    /// placeholders are checked as usual.
    package func expand(payload: [UInt8], subject: String? = nil, deferringElements: Bool = false) throws(JobqError) -> String {
        var expanded = ""
        var rest = Substring(template)
        var document: JSONValue?
        while let open = rest.firstIndex(of: "{") {
            expanded += rest[..<open]
            let inner = rest[rest.index(after: open)...]
            guard let close = inner.firstIndex(of: "}") else {
                throw JobqError(.invalidOption, "\(option) \(template): `{` is not closed", subject: subject)
            }
            let name = String(inner[..<close])
            guard name.hasPrefix("payload."), name.count > "payload.".count else {
                throw JobqError(.invalidOption, "\(option) \(template): unknown placeholder {\(name)}; use {payload.FIELD} (a dotted path into the payload)", subject: subject)
            }
            if document == nil {
                document = (try? JSONValue.parse(payload)) ?? .null
            }
            expanded += try scalar(at: name, in: document ?? .null, subject: subject, deferringElements: deferringElements)
            rest = inner[inner.index(after: close)...]
        }
        expanded += rest
        do {
            try Validation.check(name: expanded, as: kind)
        } catch {
            throw JobqError(.invalidName, "\(option) \(template) expands to an invalid key: \(error.message)", subject: subject)
        }
        return expanded
    }

    /// What a path that reaches a map element placeholder expands to while a template is checked.
    package static let elementStandIn = "element"

    /// The text of the scalar at `path` ("payload.a.b").
    private func scalar(at path: String, in document: JSONValue, subject: String?, deferringElements: Bool) throws(JobqError) -> String {
        var value = document
        for component in path.split(separator: ".", omittingEmptySubsequences: false).dropFirst() {
            if deferringElements && MapRequest.isPlaceholder(value) { return Self.elementStandIn }
            guard let next = value[String(component)] else {
                throw JobqError(.invalidOption, "\(option) \(template): the payload has no field \(path)", subject: subject)
            }
            value = next
        }
        if deferringElements && MapRequest.isPlaceholder(value) { return Self.elementStandIn }
        switch value {
        case .string(let text): return text
        case .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null, .array, .object:
            throw JobqError(.invalidOption, "\(option) \(template): the payload's \(path) is not a string, number or boolean", subject: subject)
        }
    }
}
