/// Operator actions on tasks: cancel and retry.
extension TaskStore {
    /// Cancels one task. Throws `not_found`, or `invalid_state` when it has already ended.
    package func cancel(task id: String, message: String = "cancelled by request") async throws(JobqError) -> CancelOutcome {
        try Validation.check(name: id, as: .taskID)
        return try await runner.run(CancelTaskCall(id: id, message: message))
    }

    /// Cancels every unfinished task of a workflow. Returns how many were cancelled at once and
    /// how many running ones were asked to stop.
    package func cancel(workflow id: String, message: String = "workflow cancelled by request") async throws(JobqError) -> WorkflowCancellation {
        try Validation.check(name: id, as: .workflow)
        return try await runner.run(CancelWorkflowCall(workflow: id, message: message))
    }

    /// Re-opens a FAILED or CANCELLED task with a fresh attempt budget, and the dependents it
    /// took down. Returns the ids re-opened, `id` first.
    package func retry(task id: String) async throws(JobqError) -> [String] {
        try Validation.check(name: id, as: .taskID)
        return try await runner.run(RetryCall(id: id))
    }
}
