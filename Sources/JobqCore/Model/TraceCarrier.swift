/// The trace context a producer stores with a task: the headers its tracing instrument injected
/// (`traceparent` and `tracestate` with a W3C / OpenTelemetry tracer; whatever keys another
/// instrument uses), kept as one JSON object in the task record's `trace` field. Storing the
/// headers, not a parsed trace id, lets any instrument's propagation format round-trip; jobq itself
/// never reads them, the worker's instrument extracts them.
package enum TraceCarrier {
    /// Largest stored carrier, in bytes: a W3C `traceparent` is 55 bytes and `tracestate` at
    /// most 512, so this leaves room for another instrument's headers (or `baggage`) and bounds
    /// what every claim of the task reads. A larger one is not stored (tracing is best effort:
    /// it never fails a submission).
    package static let maxBytes = 4096

    /// The submit argument: `''` for no headers (the record then has no `trace` field), else
    /// the headers as a JSON object with sorted keys; `''` as well when that exceeds ``maxBytes``.
    package static func encode(_ headers: [String: String]) -> String {
        guard !headers.isEmpty else { return "" }
        let object = JSONValue.object(headers.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })
        let text = object.rendered()
        return text.utf8.count <= maxBytes ? text : ""
    }

    /// The headers of a stored carrier: empty for none, and for bytes that are not a JSON object
    /// of strings (a damaged field costs the trace, never the task).
    package static func decode(_ bytes: [UInt8]) -> [String: String] {
        guard !bytes.isEmpty, case .object(let pairs)? = try? JSONValue.parse(bytes) else { return [:] }
        var headers: [String: String] = [:]
        for (key, value) in pairs {
            if case .string(let text) = value { headers[key] = text }
        }
        return headers
    }
}
