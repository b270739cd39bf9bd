import JobqCore
import Tracing

extension JobqClient {
    /// Runs a submission inside a `.producer` span `jobq.submit` (a child of the caller's current
    /// span, if any) and hands `body` the span's context as headers to store with every task, so
    /// the worker's span for each task continues this trace with the submit as its parent.
    /// With no tracer bootstrapped this is the no-op tracer's cost: no span, no headers, nothing
    /// stored.
    func tracedSubmit<R>(
        taskCount: Int, workflow: String?,
        _ body: ([String: String]) async throws(JobqError) -> R,
        ids: (R) -> [String]
    ) async throws(JobqError) -> R {
        let span = startSpan("jobq.submit", ofKind: .producer)
        defer { span.end() }
        if span.isRecording {
            span.attributes["messaging.system"] = "jobq"
            span.attributes["messaging.operation.type"] = "send"
            span.attributes["jobq.namespace"] = namespace
            span.attributes["jobq.task_count"] = taskCount
            if let workflow { span.attributes["jobq.workflow"] = workflow }
        }
        do {
            let result = try await body(TraceHeaders.inject(span.context))
            if span.isRecording {
                let submitted = ids(result)
                if submitted.count == 1 { span.attributes["jobq.task.id"] = submitted[0] }
            }
            return result
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error, message: error.code.rawValue))
            throw error
        }
    }
}
