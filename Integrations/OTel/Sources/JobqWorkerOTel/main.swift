// jobq-worker with OpenTelemetry tracing: bootstrap swift-otel's tracer (traces only: the worker
// keeps its own stderr logs and Prometheus metrics), then run the jobq-worker command, flags and
// all, with the exporter's service in the worker's service group (started first, shut down last,
// so the final spans are flushed after the worker stops).
//
// Configured by the standard OpenTelemetry environment variables: OTEL_EXPORTER_OTLP_ENDPOINT
// (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; default http://localhost:4318), OTEL_SERVICE_NAME
// (default jobq-worker), OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG),
// OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_TRACES_EXPORTER (otlp or none;
// swift-otel 1.6 refuses console for traces: exit 78), OTEL_PROPAGATORS (default tracecontext: the W3C traceparent jobq stores per task).
import Foundation
import JobqWorkerCLI
import OTel
import ServiceLifecycle

var configuration = OTel.Configuration.default
configuration.serviceName = "jobq-worker"
configuration.logs.enabled = false
configuration.metrics.enabled = false
configuration.traces.otlpExporter.protocol = .httpProtobuf

let observability: any Service
do {
    observability = try OTel.bootstrap(configuration: configuration)
} catch {
    FileHandle.standardError.write(Data("jobq-worker-otel: cannot start OpenTelemetry: \(error)\n".utf8))
    exit(78) // EX_CONFIG
}
await JobqWorkerCommand.main(alongside: [observability])
