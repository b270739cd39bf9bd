import Jobq
import JobqCore

/// Checkpoints: a small resume point a long handler saves as it goes, so that the next attempt
/// (after a failure, a timeout, a crash, a snooze, a `jobq retry`) resumes instead of starting
/// over: a 2-hour job retried at 90 % resumes at 90 %.
///
/// ```swift
/// var next = try context.checkpoint(as: Int.self) ?? 0
/// while next < files.count {
///     try await process(files[next])
///     next += 1
///     try await context.checkpoint(next)
/// }
/// ```
extension HandlerContext {
    /// The last checkpoint (JSON) saved by an earlier attempt of this task, as this attempt's
    /// claim delivered it; `nil` when there is none. Checkpoints this attempt saves do not change
    /// it: they are for the next attempt.
    public var lastCheckpoint: [UInt8]? { run.claimed.checkpoint }

    /// ``lastCheckpoint`` decoded as `T`; `nil` when there is none.
    ///
    /// - Throws: `invalid_payload` when it does not decode as `T` (the handler's type changed
    ///   since it was saved: decide whether to start over).
    public func checkpoint<T: Decodable>(as type: T.Type = T.self) throws(JobqError) -> T? {
        guard let bytes = lastCheckpoint else { return nil }
        return try PayloadCoding.decode(T.self, from: bytes)
    }

    /// Saves `value` (encoded as JSON, at most 64 KiB) as the task's checkpoint. Returns once Redis
    /// stored it, so a crash right after loses nothing; the write is fenced by the task's lease.
    ///
    /// - Throws: `payload_too_large` over 64 KiB (store large state elsewhere and checkpoint a
    ///   reference), `invalid_payload` when it does not encode, `stale_token` (or `not_found`,
    ///   `invalid_state`) when this worker no longer holds the task: stop, another run owns it.
    public func checkpoint(_ value: some Encodable) async throws(JobqError) {
        try await saveCheckpoint(json: try PayloadCoding.encode(value))
    }

    /// Saves `json` (already JSON) as the task's checkpoint; see ``checkpoint(_:)``.
    public func saveCheckpoint(json: [UInt8]) async throws(JobqError) {
        try LeaseStore.checkCheckpoint(json, limits: Limits())
        let outcome = try await store.saveCheckpoint(run.lease, json)
        if case .refused(let code) = outcome {
            throw JobqError(code, "the checkpoint of task \(taskID) was not saved: this worker no longer holds its lease (it expired, or the task was cancelled or claimed elsewhere)", subject: taskID)
        }
    }
}
