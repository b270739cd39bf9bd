import InMemoryTracing
import Jobq
import JobqCore
import JobqWorker
import Testing
import Tracing

/// A batch handler's call is one `.consumer` span `jobq.batch <handler>`, linked to each task's
/// producer context (OpenTelemetry's messaging conventions for batch processing), current while
/// the handler runs.
@Suite("Tracing: batch handlers", .enabled(if: redisAvailable))
struct BatchTracingTests {
    @Test func aBatchIsOneSpanLinkedToEveryTasksTrace() async throws {
        let tracer = W3CTestTracer()
        try await withTracer(tracer) {
            try await withHarness { harness in
                var registry = HandlerRegistry()
                let seen = Box<[String: String]>([:])
                registry.register(batch: "sum", max: 3, wait: .seconds(5)) { (items: [BatchItem<Int>]) async throws -> [String: BatchOutcome<Int>] in
                    seen.update { seen in
                        for item in items { seen[item.id] = item.context.serviceContext.inMemorySpanContext?.spanID ?? "" }
                    }
                    return withSpan("batch work") { _ in
                        Dictionary(uniqueKeysWithValues: items.map { item in
                            (item.id, item.input == 3 ? .failed(HandlerError.permanent("no 3", reason: "refused")) : .done(item.input * 2))
                        })
                    }
                }
                // three producers, three traces
                for index in 1...3 {
                    _ = try await withSpan("request \(index)") { _ in
                        try await harness.client.submit(task("b\(index)", handler: "sum", payload: "\(index)"))
                    }
                }
                try harness.startWorker(registry) { $0.concurrency = 3 }
                #expect(try await harness.finished("b1").state == .done)
                #expect(try await harness.finished("b3").state == .failed)

                let batches = TracingTests.spans(tracer, "jobq.batch sum")
                #expect(batches.count == 1, "one span for the one call: \(batches.map(\.operationName))")
                let batch = try #require(batches.first)
                #expect(batch.kind == .consumer)
                #expect(batch.parentSpanID == nil, "a batch has many parents: its span is a root")
                #expect(batch.attributes["messaging.batch.message_count"]?.toSpanAttribute() == .int64(3))
                #expect(batch.attributes["jobq.batch.failed"]?.toSpanAttribute() == .int64(1))
                #expect(batch.attributes["jobq.queue"]?.toSpanAttribute() == .string("default"))
                #expect(batch.status?.code == .error && batch.errors.count == 1)
                #expect(TracingTests.spans(tracer, "jobq.task sum").isEmpty, "no per-task span besides the batch's")

                // a link per task, to the submit span of its own trace
                let submits = TracingTests.spans(tracer, "jobq.submit")
                #expect(submits.count == 3)
                var linked: [String: (trace: String, span: String)] = [:]
                for link in batch.links {
                    guard case .string(let id)? = link.attributes["jobq.task.id"]?.toSpanAttribute(), let context = link.context.inMemorySpanContext else { continue }
                    linked[id] = (context.traceID, context.spanID)
                }
                #expect(Set(linked.keys) == ["b1", "b2", "b3"], "\(batch.links.count) links")
                for index in 1...3 {
                    let request = try #require(TracingTests.spans(tracer, "request \(index)").first)
                    let submit = try #require(submits.first { $0.parentSpanID == request.spanID })
                    #expect(linked["b\(index)"]?.trace == request.traceID && linked["b\(index)"]?.span == submit.spanID, "b\(index)")
                }
                #expect(Set(linked.values.map(\.trace)).count == 3, "three traces linked")

                // the handler runs in the batch span
                #expect(seen.current == ["b1": batch.spanID, "b2": batch.spanID, "b3": batch.spanID])
                let work = try #require(TracingTests.spans(tracer, "batch work").first)
                #expect(work.parentSpanID == batch.spanID && work.traceID == batch.traceID)
            }
        }
    }
}
