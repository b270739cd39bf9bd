import InMemoryTracing
import Jobq
import JobqCore
import JobqRedis
import JobqWorker
import Testing
import Tracing

/// Distributed tracing across the queue: the producer's `jobq.submit` span is stored with the
/// task and becomes the parent of the worker's `jobq.task <handler>` span, on every attempt, in
/// a command handler's `TRACEPARENT`, and in tasks a handler submits. The tracer is bound to the
/// test's task tree (`withTracer`), so tests running beside it stay untraced.
@Suite("Tracing", .enabled(if: redisAvailable))
struct TracingTests {
    /// The finished spans named `name`.
    static func spans(_ tracer: W3CTestTracer, _ name: String) -> [FinishedInMemorySpan] {
        tracer.finishedSpans.filter { $0.operationName == name }
    }

    static func attempt(_ span: FinishedInMemorySpan) -> Int64 {
        if case .int64(let number)? = span.attributes["jobq.attempt"]?.toSpanAttribute() { return number }
        return 0
    }

    @Test func theTaskSpanIsAChildOfTheSubmitAndParentOfTheHandlersSpans() async throws {
        let tracer = W3CTestTracer()
        try await withTracer(tracer) {
            try await withHarness { harness in
                var registry = HandlerRegistry()
                let seen = Box<ServiceContext?>(nil)
                registry.register("traced") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                    seen.set(context.serviceContext)
                    return withSpan("inner work") { _ in 7 }
                }
                try harness.startWorker(registry)
                _ = try await withSpan("request") { _ in
                    try await harness.client.submit(task("t1", handler: "traced"))
                }
                #expect(try await harness.finished("t1").state == .done)

                let request = try #require(Self.spans(tracer, "request").first)
                let submit = try #require(Self.spans(tracer, "jobq.submit").first)
                let run = try #require(Self.spans(tracer, "jobq.task traced").first)
                let inner = try #require(Self.spans(tracer, "inner work").first)
                #expect(submit.kind == .producer)
                #expect(submit.parentSpanID == request.spanID)
                #expect(run.kind == .consumer)
                #expect(run.traceID == request.traceID)
                #expect(run.parentSpanID == submit.spanID, "the submit is the task span's parent")
                #expect(inner.traceID == request.traceID)
                #expect(inner.parentSpanID == run.spanID, "a span the handler starts nests under the task's")
                #expect(seen.current?.inMemorySpanContext?.spanID == run.spanID, "HandlerContext carries the task span")
                #expect(run.attributes["jobq.task.id"]?.toSpanAttribute() == .string("t1"))
                #expect(run.attributes["jobq.queue"]?.toSpanAttribute() == .string("default"))
                #expect(run.attributes["jobq.handler"]?.toSpanAttribute() == .string("traced"))
                #expect(run.attributes["jobq.attempt"]?.toSpanAttribute() == .int64(1))
                #expect(run.attributes["jobq.outcome"]?.toSpanAttribute() == .string("done"))
                #expect(run.errors.isEmpty)

                // what the record holds: the submit span's W3C context
                let stored = try await harness.coordinator.redis.send("HGET", RedisArgument(harness.coordinator.keys.task("t1")), "trace").decodeOptionalString()
                let headers = TraceCarrier.decode(Array((stored ?? "").utf8))
                let fields = try #require(traceparentFields(headers["traceparent"] ?? ""))
                #expect(fields.trace == request.traceID)
                #expect(fields.span == submit.spanID)
            }
        }
    }

    @Test func eachAttemptIsASpanOfItsOwnUnderTheSameSubmit() async throws {
        let tracer = W3CTestTracer()
        try await withTracer(tracer) {
            try await withHarness { harness in
                var registry = HandlerRegistry()
                registry.register("flaky") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                    if context.attempt == 1 { throw HandlerError.retry("not yet") }
                    return 1
                }
                try harness.startWorker(registry)
                try await harness.client.submit(task("t2", handler: "flaky", maxAttempts: 2))
                #expect(try await harness.finished("t2").state == .done)

                let submit = try #require(Self.spans(tracer, "jobq.submit").first)
                let runs = Self.spans(tracer, "jobq.task flaky").sorted { Self.attempt($0) < Self.attempt($1) }
                #expect(runs.count == 2)
                #expect(runs.allSatisfy { $0.traceID == submit.traceID && $0.parentSpanID == submit.spanID })
                #expect(runs.map { $0.attributes["jobq.attempt"]?.toSpanAttribute() } == [.int64(1), .int64(2)])
                #expect(runs.map { $0.attributes["jobq.outcome"]?.toSpanAttribute() } == [.string("retry"), .string("done")])
                #expect(runs.first?.errors.count == 1, "the failed attempt records its error")
                #expect(runs.first?.status?.code == .error)
                #expect(runs.last?.errors.isEmpty == true)
                #expect(Set(runs.map(\.spanID)).count == 2)
            }
        }
    }

    @Test func aCommandHandlerGetsTheTaskSpanAsTRACEPARENT() async throws {
        let tracer = W3CTestTracer()
        try await withTracer(tracer) {
            try await withHarness { harness in
                var registry = HandlerRegistry()
                registry.register("env", command: shell(#"printf '{"traceparent":"%s","tracestate":"%s"}' "$TRACEPARENT" "$TRACESTATE""#))
                try harness.startWorker(registry)
                try await harness.client.submit(task("t3", handler: "env"))
                #expect(try await harness.finished("t3").state == .done)

                let run = try #require(Self.spans(tracer, "jobq.task env").first)
                let seen = try await harness.client.result(of: "t3", as: [String: String].self)
                let fields = try #require(traceparentFields(seen["traceparent"] ?? ""), "TRACEPARENT was \(seen["traceparent"] ?? "unset")")
                #expect(fields.trace == run.traceID)
                #expect(fields.span == run.spanID, "the command's parent is the task's span, not the submit")
                #expect(seen["tracestate"] == "jobq=test")
            }
        }
    }

    @Test func aTaskSubmittedByAHandlerContinuesTheTrace() async throws {
        let tracer = W3CTestTracer()
        try await withTracer(tracer) {
            try await withHarness { harness in
                var registry = HandlerRegistry()
                let client = harness.client
                registry.register("parent") { (_: JSONNull, _: HandlerContext) async throws -> Int in
                    try await client.submit(task("child", handler: "leaf"))
                    return 0
                }
                registry.register("leaf") { (_: JSONNull, _: HandlerContext) async throws -> Int in 1 }
                try harness.startWorker(registry)
                try await harness.client.submit(task("p", handler: "parent"))
                #expect(try await harness.finished("p").state == .done)
                #expect(try await harness.finished("child").state == .done)

                let parentRun = try #require(Self.spans(tracer, "jobq.task parent").first)
                let leafRun = try #require(Self.spans(tracer, "jobq.task leaf").first)
                let childSubmit = try #require(Self.spans(tracer, "jobq.submit").first { $0.parentSpanID == parentRun.spanID })
                #expect(leafRun.traceID == parentRun.traceID)
                #expect(leafRun.parentSpanID == childSubmit.spanID)
            }
        }
    }

    @Test func withoutATracerNothingIsStored() async throws {
        // no withTracer here: the process's bootstrapped instrument is the default no-op
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("env", command: shell(#"printf '"%s"' "${TRACEPARENT-unset}""#))
            try harness.startWorker(registry)
            try await harness.client.submit(task("u1", handler: "env"))
            #expect(try await harness.finished("u1").state == .done)
            let exists = try await harness.coordinator.redis.send("HEXISTS", RedisArgument(harness.coordinator.keys.task("u1")), "trace").decodeInt()
            #expect(exists == 0, "an untraced task has no trace field")
            #expect(try await harness.client.result(of: "u1", as: String.self) == "unset")
        }
    }
}
