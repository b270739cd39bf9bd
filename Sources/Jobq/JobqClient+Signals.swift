import JobqCore

/// Signals and answers for tasks that wait (docs/worker.md, "Waiting for a signal").
extension JobqClient {
    /// Sends the signal `name` to task `id` with `payload` (JSON, at most 64 KiB). A task that
    /// waits for it is queued again (``SignalDelivery/resumed``); a task still pending or running
    /// keeps it for a wait to come (``SignalDelivery/kept``; the same name again replaces it).
    ///
    /// - Throws: `not_found`; `invalid_state` when the task has ended; `invalid_name`,
    ///   `invalid_payload`, `payload_too_large` (nothing written).
    @discardableResult
    public func signal(task id: String, name: String, payloadJSON payload: [UInt8] = Array("null".utf8), actor: String? = nil) async throws(JobqError) -> SignalDelivery {
        try await engine.tasks.signal(task: id, name: name, payload: payload, actor: actor.flatMap(ActorName.clean))
    }

    /// ``signal(task:name:payloadJSON:)`` with `payload` encoded as JSON.
    @discardableResult
    public func signal(task id: String, name: String, payload: some Encodable, actor: String? = nil) async throws(JobqError) -> SignalDelivery {
        try await engine.tasks.signal(task: id, name: name, payload: try PayloadCoding.encode(payload), actor: actor.flatMap(ActorName.clean))
    }

    /// Answers the question task `id` asks (`context.ask`, `JOBQ_ASK`) with `choice`.
    ///
    /// - Throws: `not_asking` when it asks nothing now, `invalid_answer` when `choice` is not
    ///   one of its choices (nothing written), `not_found`, `invalid_state`.
    @discardableResult
    public func answer(task id: String, choice: String, actor: String? = nil) async throws(JobqError) -> SignalDelivery {
        try await engine.tasks.answer(task: id, choice: choice, actor: actor.flatMap(ActorName.clean))
    }
}
