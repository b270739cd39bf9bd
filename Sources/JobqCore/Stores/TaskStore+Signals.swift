/// Signals and answers (docs/worker.md, "Waiting for a signal"): checked here, applied by
/// signal.lua, which keeps the signal in the record and resumes a task that waits for it.
extension TaskStore {
    /// Sends the signal `name` with `payload` (JSON) to task `id`. Throws `invalid_name`,
    /// `invalid_payload`, `payload_too_large` before anything is written; `not_found`,
    /// `invalid_state` (the task has ended) from the script.
    package func signal(task id: String, name: String, payload: [UInt8], actor: String? = nil) async throws(JobqError) -> SignalDelivery {
        try Validation.check(taskID: id)
        try Validation.check(name: name, as: .signal)
        var limits = runner.limits
        limits.maxPayloadBytes = min(limits.maxPayloadBytes, Limits.signalMaxBytes)
        try Validation.check(payload: payload, limits: limits, what: "signal payload")
        return try await runner.run(SignalCall(id: id, kind: .signal(name: name, payload: payload), actor: actor))
    }

    /// Answers the question task `id` asks with `choice`. Throws `not_asking` when it asks
    /// nothing now, `invalid_answer` for a choice it does not offer (nothing written).
    package func answer(task id: String, choice: String, actor: String? = nil) async throws(JobqError) -> SignalDelivery {
        try Validation.check(taskID: id)
        return try await runner.run(SignalCall(id: id, kind: .answer(choice: choice), actor: actor))
    }
}
