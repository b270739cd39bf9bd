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

    /// The outcome as attributes; a failure that charges the attempt (retried or final) as the
    /// span's error. Snoozes, rate-limit returns, waits, hand-backs and cancellations are not errors.
    private static func record(_ outcome: RunOutcome, on span: any Span) {
        switch outcome {
        case .completion(let completion):
            span.attributes["jobq.outcome"] = completion.awaitRun != nil ? "awaiting_run" : completion.skipped ? "skipped" : "done"
        case .failure(let failure):
            let word: String
            var isError = false
            switch failure.mode {
            case .retry: word = "retry"; isError = true
            case .final: word = "failed"; isError = true
            case .handBack: word = "handed_back"
            case .cancelled: word = "cancelled"
            case .snooze: word = "snoozed"
            case .rateLimited: word = "rate_limited"
            case .children: word = "waiting_children"
            case .wait: word = "waiting"
            }
            span.attributes["jobq.outcome"] = word
            span.attributes["jobq.failure.reason"] = failure.reason
            if isError {
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
