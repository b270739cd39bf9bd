import Jobq
import JobqCore
import Tracing

/// One `.consumer` span per run of a task, continuing the trace its producer stored.
extension Worker {
    /// Runs `body` (the handler) inside a span `jobq.task <handler>` whose parent is the context
    /// stored at submit (a root span when there is none), bound as the task-local
    /// `ServiceContext.current`: spans the handler starts nest under it, and tasks it submits
    /// carry it on. Each attempt (a retry, a snooze's next run) is a span of its own under the
    /// same parent. With no tracer bootstrapped this is the no-op tracer: nothing is recorded.
    func traced(_ run: RunningTask, _ body: () async -> RunOutcome) async -> RunOutcome {
        let claimed = run.claimed
        let span = startSpan("jobq.task \(claimed.handler)", context: TraceHeaders.extract(claimed.traceHeaders), ofKind: .consumer)
        defer { span.end() }
        if span.isRecording {
            span.attributes["messaging.system"] = "jobq"
            span.attributes["messaging.operation.type"] = "process"
            span.attributes["messaging.destination.name"] = claimed.queue
            span.attributes["jobq.task.id"] = claimed.id
            span.attributes["jobq.queue"] = claimed.queue
            span.attributes["jobq.handler"] = claimed.handler
            span.attributes["jobq.attempt"] = claimed.attempt
            span.attributes["jobq.worker.id"] = id
            if let workflow = claimed.workflow { span.attributes["jobq.workflow"] = workflow }
        }
        let outcome = await ServiceContext.$current.withValue(span.context) { await body() }
        if span.isRecording { Self.record(outcome, on: span) }
        return outcome
    }

    /// Runs `body` (one call of a batch handler) inside one `.consumer` span `jobq.batch
    /// <handler>` with a link to the stored context of each task that has one, as OpenTelemetry's
    /// messaging conventions ask of batch processing: a batch has many parents, so its span is a
    /// root of its own (the ambient context; none in a worker) and each message's creation
    /// context is a link, attributed with `jobq.task.id`. `messaging.batch.message_count` is the
    /// batch's size; `jobq.batch.failed` counts the tasks whose outcome charged their attempt
    /// (the span's error when there is one). The span is current while the tasks are prepared and
    /// the handler runs, so `HandlerContext.serviceContext` and spans the handler starts are in it.
    func tracedBatch(_ runs: [RunningTask], handler: String, _ body: () async -> [RunOutcome]) async -> [RunOutcome] {
        let span = startSpan("jobq.batch \(handler)", context: ServiceContext.current ?? .topLevel, ofKind: .consumer)
        defer { span.end() }
        if span.isRecording {
            span.attributes["messaging.system"] = "jobq"
            span.attributes["messaging.operation.type"] = "process"
            span.attributes["messaging.batch.message_count"] = runs.count
            span.attributes["jobq.handler"] = handler
            span.attributes["jobq.worker.id"] = id
            let queues = Set(runs.map(\.claimed.queue))
            if queues.count == 1, let queue = queues.first {
                span.attributes["messaging.destination.name"] = queue
                span.attributes["jobq.queue"] = queue
            }
            for run in runs where !run.claimed.traceHeaders.isEmpty {
                span.addLink(SpanLink(context: TraceHeaders.extract(run.claimed.traceHeaders), attributes: ["jobq.task.id": .string(run.claimed.id)]))
            }
        }
        let outcomes = await ServiceContext.$current.withValue(span.context) { await body() }
        if span.isRecording {
            let failed = outcomes.filter(Self.chargesAttempt)
            span.attributes["jobq.batch.failed"] = failed.count
            if case .failure(let first)? = failed.first {
                span.recordError(TaskRunError(reason: first.reason, message: first.message))
                span.setStatus(SpanStatus(code: .error, message: "\(failed.count) of \(runs.count) tasks failed: \(first.message)"))
            }
        }
        return outcomes
    }

    /// A failure that charges the attempt (retried or final): an error in a span.
    private static func chargesAttempt(_ outcome: RunOutcome) -> Bool {
        guard case .failure(let failure) = outcome else { return false }
        switch failure.mode {
        case .retry, .final: return true
        case .handBack, .cancelled, .snooze, .rateLimited, .wait, .children: return false
        }
    }

    /// The outcome as attributes; a failure that charges the attempt (retried or final) as the
    /// span's error. Snoozes, rate-limit returns, waits, hand-backs and cancellations are not errors.
    private static func record(_ outcome: RunOutcome, on span: any Span) {
        switch outcome {
        case .completion(let completion):
            span.attributes["jobq.outcome"] = completion.awaitRun != nil ? "awaiting_run" : completion.skipped ? "skipped" : "done"
        case .failure(let failure):
            let word: String
            switch failure.mode {
            case .retry: word = "retry"
            case .final: word = "failed"
            case .handBack: word = "handed_back"
            case .cancelled: word = "cancelled"
            case .snooze: word = "snoozed"
            case .rateLimited: word = "rate_limited"
            case .children: word = "waiting_children"
            case .wait: word = "waiting"
            }
            span.attributes["jobq.outcome"] = word
            span.attributes["jobq.failure.reason"] = failure.reason
            if chargesAttempt(outcome) {
                span.recordError(TaskRunError(reason: failure.reason, message: failure.message))
                span.setStatus(SpanStatus(code: .error, message: failure.message))
            }
        }
    }
}

/// A failed run as the error its span records: the reason word and the message kept with the task.
struct TaskRunError: Error, CustomStringConvertible {
    let reason: String
    let message: String
    var description: String { "\(reason): \(message)" }
}
