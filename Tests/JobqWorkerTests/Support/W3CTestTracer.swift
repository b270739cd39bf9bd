import InMemoryTracing
import Tracing

/// swift-distributed-tracing's `InMemoryTracer` (it keeps every span for inspection) with W3C
/// propagation instead of its own `in-memory-*` headers, so that what jobq stores and hands to
/// command handlers is the real `traceparent` an OpenTelemetry tracer would write. Ids are hex,
/// 32 digits for a trace and 16 for a span, as W3C requires.
struct W3CTestTracer: Tracer {
    let recorder: InMemoryTracer

    init() {
        recorder = InMemoryTracer(idGenerator: .init(nextTraceID: { Self.hex(digits: 32) }, nextSpanID: { Self.hex(digits: 16) }))
    }

    private static func hex(digits: Int) -> String {
        var text = ""
        while text.count < digits {
            let part = String(UInt64.random(in: 1...UInt64.max), radix: 16)
            text += String(repeating: "0", count: 16 - part.count) + part
        }
        return String(text.prefix(digits))
    }

    var finishedSpans: [FinishedInMemorySpan] { recorder.finishedSpans }

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> InMemorySpan {
        recorder.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    func forceFlush() {}

    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject) where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
        injector.inject("jobq=test", forKey: "tracestate", into: &carrier)
    }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract) where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier) else { return }
        let parts = header.split(separator: "-")
        guard parts.count == 4 else { return }
        context.inMemorySpanContext = InMemorySpanContext(traceID: String(parts[1]), spanID: String(parts[2]), parentSpanID: nil)
    }
}

/// The W3C `traceparent` fields: (trace id, parent span id), or `nil` when malformed.
func traceparentFields(_ header: String) -> (trace: String, span: String)? {
    let parts = header.split(separator: "-")
    guard parts.count == 4, parts[1].count == 32, parts[2].count == 16 else { return nil }
    return (String(parts[1]), String(parts[2]))
}
