/// Operator actions on tasks: cancel and retry.
///
/// Each is a bounded operation (docs/architecture.md, "Bounded scripts"): its scripts do a fixed
/// budget of work per call, and these methods keep calling until the work is done, so they
/// return what one unbounded call used to. A caller that dies midway leaves the rest to the
/// maintenance pass.
extension TaskStore {
    /// The loops below only guard against a script bug: each call makes progress.
    static let continuationBound = 10_000_000

    /// Cancels one task. Throws `not_found`, or `invalid_state` when it has already ended.
    /// Returns once its whole cascade has settled.
    package func cancel(task id: String, message: String = "cancelled by request", actor: String? = nil) async throws(JobqError) -> CancelOutcome {
        try Validation.check(taskID: id)
        let reply = try await runner.run(CancelTaskCall(id: id, message: message, actor: actor))
        if reply.status != .done { try await runner.settleAll() }
        // a sub-workflow task waiting for its child run started that run's cancellation
        try await Maintenance(runner: runner).continueUnownedWork()
        return reply.outcome
    }

    /// Cancels every unfinished task of a workflow. Returns how many were cancelled at once and
    /// how many running ones were asked to stop.
    package func cancel(workflow id: String, message: String = "workflow cancelled by request", actor: String? = nil) async throws(JobqError) -> WorkflowCancellation {
        try Validation.check(name: id, as: .workflow)
        var reply = try await runner.run(CancelWorkflowCall(workflow: id, message: message, step: .start, actor: actor))
        var totals = reply.totals
        for _ in 0..<Self.continuationBound where reply.status != .done {
            reply = try await runner.run(CancelWorkflowCall(workflow: id, message: message, step: .next, actor: actor))
            // Totals only grow; a zero answer means another caller finished it meanwhile.
            totals = WorkflowCancellation(cancelled: max(totals.cancelled, reply.totals.cancelled), requested: max(totals.requested, reply.totals.requested))
        }
        // tasks waiting for child runs (sub-workflows) started those runs' cancellations
        try await Maintenance(runner: runner).continueUnownedWork()
        return totals
    }

    /// Re-opens a FAILED or CANCELLED task with a fresh attempt budget, and the dependents it
    /// took down. Returns the ids re-opened, `id` first.
    package func retry(task id: String, actor: String? = nil) async throws(JobqError) -> [String] {
        try Validation.check(taskID: id)
        var ids: [String] = []
        var step = ContinuationStep.start
        var waits = 0
        for _ in 0..<Self.continuationBound {
            let reply = try await runner.run(RetryCall(id: id, step: step, actor: actor))
            ids += reply.reopened
            waits = reply.status == .settle ? waits + 1 : 0
            if waits > 3 {
                // settleAll() emptied the settle list, yet the retry still waits: a cascade's
                // edges were left aside without their entry (damage by hand).
                throw JobqError(.internalError, "retry of \(id) waits for a cascade that is not on the settle list (t:<id>:settle without its entry in settle)")
            }
            switch reply.status {
            case .done:
                guard ids.first == id else {
                    throw JobqError(.invalidState, "\(id) could not be re-opened: a prerequisite failed while the retry ran")
                }
                return ids
            case .more:
                step = .next
            case .settle:
                // A cascade it depends on is in flight: settle it, then go on (a `start` that
                // wrote nothing is simply asked again).
                try await runner.settleAll()
            }
        }
        throw JobqError(.internalError, "retry of \(id) did not finish")
    }
}

extension TaskStore {
    /// `rerun --outdated`: re-opens, in place, the OUTDATED tasks of an ended run and every task
    /// of the run that depends on them; nothing else. Returns the ids re-opened (none when
    /// nothing is outdated). Throws `not_found` (no such run) or `invalid_state` (the run has
    /// not ended, or is being cancelled).
    package func rerunOutdated(run id: String) async throws(JobqError) -> [String] {
        try Validation.check(name: id, as: .run)
        var ids: [String] = []
        var step = ContinuationStep.start
        for _ in 0..<Self.continuationBound {
            let reply = try await runner.run(RerunOutdatedCall(run: id, step: step))
            ids += reply.reopened
            if reply.status == .done { return ids }
            step = .next
        }
        throw JobqError(.internalError, "rerun --outdated of \(id) did not finish")
    }
}
