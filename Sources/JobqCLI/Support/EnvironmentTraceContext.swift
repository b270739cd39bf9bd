import Synchronization
import Tracing

/// `TRACEPARENT` / `TRACESTATE` from the environment (OpenTelemetry's convention for handing a
/// trace context to a process; jobq-worker sets them for command handlers) as the context every
/// task this `jobq` process submits stores. So `jobq submit` run by a command handler, or by a
/// traced script, continues that trace: the worker's span for the new task becomes a child of
/// the span the variables name. The CLI makes no spans of its own; without the variables nothing
/// is bootstrapped and nothing is stored.
struct EnvironmentTraceContext: Instrument {
    let headers: [String: String]

    /// Bootstraps the instrument once per process when `TRACEPARENT` is set.
    static func bootstrapIfPresent() {
        bootstrapped.withLock { done in
            guard !done else { return }
            done = true
            guard let parent = Environment.value("TRACEPARENT") else { return }
            var headers = ["traceparent": parent]
            headers["tracestate"] = Environment.value("TRACESTATE")
            InstrumentationSystem.bootstrap(EnvironmentTraceContext(headers: headers))
        }
    }

    private static let bootstrapped = Mutex(false)

    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject) where Inject.Carrier == Carrier {
        for (key, value) in headers { injector.inject(value, forKey: key, into: &carrier) }
    }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract) where Extract.Carrier == Carrier {}
}
