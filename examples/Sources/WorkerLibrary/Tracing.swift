// docs/operations.md, "Tracing": the snippets, verbatim (compiled, not run), inside functions
// because only main.swift may hold top-level code.
import Jobq
import JobqWorker
import Tracing

struct Invoice: Codable { var id: Int }
func render(_ invoice: Invoice) async throws -> [UInt8] { [] }

func bootstrapTracing(tracer: some Tracer) {
// Once, at startup, before the first client or worker is made (an OpenTelemetry tracer from
// swift-otel, or any other Tracer). Without it jobq's spans are the no-op tracer's: free.
InstrumentationSystem.bootstrap(tracer)
}

func tracedProducer(client: JobqClient) async throws {
// The submit is a `jobq.submit` span under the current one; the worker's span continues it.
try await withSpan("nightly billing") { _ in
    _ = try await client.submit("invoice.render", payload: Invoice(id: 42))
}
}

func registerTracedHandler(in registry: inout HandlerRegistry) {
registry.register("invoice.render") { (invoice: Invoice, context: HandlerContext) async throws -> Int in
    // runs inside the task's `jobq.task invoice.render` span: this span nests under it, and
    // tasks submitted here continue the trace
    let pdf = try await withSpan("render pdf") { span in
        span.attributes["invoice.id"] = invoice.id
        return try await render(invoice)
    }
    return pdf.count
}
}
