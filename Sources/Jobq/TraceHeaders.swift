import Tracing

/// Trace context as header pairs (`traceparent`, `tracestate`, …): the carrier jobq stores with a
/// task (``JobqClient`` injects, the worker extracts) and hands to command handlers as
/// environment variables.
package enum TraceHeaders {
    /// The bootstrapped instrument's headers for `context` (empty with the default no-op
    /// instrument, or when the context carries no span).
    package static func inject(_ context: ServiceContext) -> [String: String] {
        var headers: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &headers, using: Injector())
        return headers
    }

    /// `headers` extracted into a fresh top-level context: the parent of a task's span.
    package static func extract(_ headers: [String: String]) -> ServiceContext {
        var context = ServiceContext.topLevel
        if !headers.isEmpty {
            InstrumentationSystem.instrument.extract(headers, into: &context, using: Extractor())
        }
        return context
    }

    /// The OpenTelemetry environment-variable convention for a carrier: the header name upper-cased,
    /// `-` and other punctuation as `_` (`traceparent` → `TRACEPARENT`, `tracestate` → `TRACESTATE`).
    package static func environmentName(_ header: String) -> String {
        String(header.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    struct Injector: Tracing.Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
            carrier[key] = value
        }
    }

    struct Extractor: Tracing.Extractor {
        func extract(key: String, from carrier: [String: String]) -> String? {
            carrier[key]
        }
    }
}
