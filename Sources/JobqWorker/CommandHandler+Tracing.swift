import Jobq

extension CommandRunner {
    /// The trace context of the task's span as environment variables (`TRACEPARENT`,
    /// `TRACESTATE`: OpenTelemetry's convention for handing a context to a child process), so the
    /// command's own spans, and tasks it submits with `jobq submit`, continue the task's trace.
    /// A context inherited from the worker's own environment is unrelated to the task and is
    /// dropped; one set in the handler's configured ``CommandHandlerConfiguration/environment``
    /// is the operator's choice and stays when the task has none.
    func addTraceContext(_ context: HandlerContext, to environment: inout [String: String]) {
        for name in ["TRACEPARENT", "TRACESTATE"] where configuration.environment[name] == nil {
            environment[name] = nil
        }
        for (header, value) in TraceHeaders.inject(context.serviceContext) {
            environment[TraceHeaders.environmentName(header)] = value
        }
    }
}
