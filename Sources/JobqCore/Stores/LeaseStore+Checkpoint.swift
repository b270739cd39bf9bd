/// Checkpoints: a running handler's resume point, saved under its lease.
extension LeaseStore {
    /// Saves `checkpoint` (JSON, at most ``Limits/checkpointMaxBytes``) as the task's last
    /// checkpoint, fenced by the lease (progress.lua): a stale token changes nothing and answers
    /// `.refused(.staleToken)`. Returns once Redis stored it, so a crash right after loses nothing;
    /// the next claim of the task hands it to that attempt (``ClaimedTask/checkpoint``).
    ///
    /// - Throws: `payload_too_large` over the limit, `invalid_payload` when it is not JSON
    ///   (checked here, before Redis: the script only enforces the size).
    @discardableResult
    package func saveCheckpoint(_ lease: TaskLease, _ checkpoint: [UInt8]) async throws(JobqError) -> LeaseWriteOutcome {
        try Self.checkCheckpoint(checkpoint, limits: runner.limits)
        return try await runner.run(ProgressCall(lease: lease, logCap: Self.logLinesKept, entries: [], lines: [], checkpoint: checkpoint))
    }

    /// The checks a checkpoint passes before it is sent: JSON within the installation's nesting
    /// limit, at most ``Limits/checkpointMaxBytes``.
    package static func checkCheckpoint(_ checkpoint: [UInt8], limits: Limits) throws(JobqError) {
        var limits = limits
        limits.maxPayloadBytes = Limits.checkpointMaxBytes
        try Validation.check(payload: checkpoint, limits: limits, what: "checkpoint")
    }
}
