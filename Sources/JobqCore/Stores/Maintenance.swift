import JobqRedis

/// The maintenance pass every worker runs: reap expired leases, promote due delayed tasks,
/// delete finished tasks whose retention has passed, fire due schedules. The scripts are idempotent, so two workers
/// running them at once do no harm; ``tryMaintenanceLock(owner:for:)`` just keeps them from
/// doing it twice.
extension Maintenance {
    /// Sends running tasks whose lease has expired down the fail path.
    package func reap(limit: Int = 500) async throws(JobqError) -> [ReapedTask] {
        try await runner.run(ReapCall(limit: limit))
    }

    /// Delayed tasks made ready per promote call. One promotion is a few µs of Redis time, so a
    /// call stays around 1 ms however many tasks fall due at once (bounded scripts; measured in
    /// BoundedScriptTests, "promote 20,000 due tasks").
    package static let promoteBatch = 200
    /// Finished records deleted per promote call: a deletion frees up to six keys and is the
    /// costliest step of the pass, and freeing memory is where a busy host stalls Redis first
    /// (measured in BoundedScriptTests, "purge").
    package static let deleteBatch = 25
    /// Expiry entries taken per promote call: an expiry ends a task and settles its first
    /// dependents (the bounded cascade), a little more than a promotion, so fewer per call
    /// (measured in BoundedScriptTests, "expire 20,000 tasks at once").
    package static let expireBatch = 100

    /// Ends tasks past their expiry, makes due delayed tasks dispatchable and deletes finished
    /// tasks whose retention passed: small promote calls (``expireBatch`` / ``promoteBatch`` /
    /// ``deleteBatch`` each) for as long as a call
    /// reaches a limit, at most `maxCalls` of them; the next pass goes on with the rest. Returns
    /// the totals and the last call's next due time (at or before now when work was left).
    package func promote(maxCalls: Int = 40) async throws(JobqError) -> PromoteResult {
        let call = PromoteCall(promoteLimit: Self.promoteBatch, deleteLimit: Self.deleteBatch, expireLimit: Self.expireBatch)
        var promoted = 0, deleted = 0, stopped = 0, expired = 0, entries = 0, timedOut = 0, timeoutEntries = 0, rateKeys = 0, rateLogs = 0
        var last: PromoteResult
        var calls = 0
        repeat {
            last = try await runner.run(call)
            calls += 1
            promoted += last.promoted
            deleted += last.deleted
            stopped += last.runsStopped
            expired += last.expired
            entries += last.expiryEntries
            timedOut += last.signalTimeouts
            timeoutEntries += last.signalTimeoutEntries
            rateKeys += last.rateKeys
            rateLogs += last.rateLogs
        } while call.reachedLimit(last) && calls < maxCalls
        return PromoteResult(promoted: promoted, deleted: deleted, nextDue: last.nextDue, runsStopped: stopped, expired: expired, expiryEntries: entries,
                             signalTimeouts: timedOut, signalTimeoutEntries: timeoutEntries, rateKeys: rateKeys, rateLogs: rateLogs)
    }

    /// One maintenance pass, if `owner` wins the lock for this `interval`: reap expired leases,
    /// then promote due delayed tasks and delete finished tasks past their retention. Returns
    /// `nil` when another process holds the lock (it is doing this work).
    ///
    /// Workers call it every interval; `jobq coordinator` runs it on its own.
    package func pass(owner: String, interval: Duration) async throws(JobqError) -> MaintenanceResult? {
        guard try await tryMaintenanceLock(owner: owner, for: interval) else { return nil }
        let reaped = try await reap()
        let promoted = try await promote()
        try await continueBoundedWork()
        let schedules = try await fireDueSchedulesReporting(grace: Self.onTimeGrace(interval: interval))
        return MaintenanceResult(reaped: reaped, promote: promoted, scheduledRuns: schedules.runs, scheduleErrors: schedules.failures)
    }

    /// The backstop of bounded operations (docs/architecture.md, "Bounded scripts"): settles
    /// cascades left on the settle list (by complete, fail or reap, whose workers do not wait for
    /// them, or by a client that died), continues run stops no client owns yet (fail-fast,
    /// deadlines: at once), and finishes workflow cancellations and retries whose client has
    /// been quiet for `staleAfter` (`.zero`: only the unowned ones). At most `calls` settle
    /// calls per pass (about 64 dependents each); the next pass goes on.
    /// Returns how many operations it continued.
    @discardableResult
    package func continueBoundedWork(staleAfter: Duration = .seconds(5), calls: Int = 200) async throws(JobqError) -> Int {
        var reply = try await runner.run(SettleCall(staleAfterMilliseconds: Int(staleAfter.jobqMilliseconds)))
        var made = 1
        while reply.status != .done && made < calls {
            reply = try await runner.run(SettleCall())
            made += 1
        }
        for operation in reply.stale {
            if operation.hasPrefix("cancel:") {
                let workflow = String(operation.dropFirst("cancel:".count))
                for _ in 0..<TaskStore.continuationBound {
                    let step = try await runner.run(CancelWorkflowCall(workflow: workflow, message: "workflow cancelled by request", step: .next))
                    if step.status == .done { break }
                }
            } else if operation.hasPrefix("rerun:") {
                let run = String(operation.dropFirst("rerun:".count))
                for _ in 0..<TaskStore.continuationBound {
                    if try await runner.run(RerunOutdatedCall(run: run, step: .next)).status == .done { break }
                }
            } else if operation.hasPrefix("retry:") {
                let root = String(operation.dropFirst("retry:".count))
                var waits = 0
                for _ in 0..<TaskStore.continuationBound {
                    let step = try await runner.run(RetryCall(id: root, step: .next))
                    if step.status == .done { break }
                    waits = step.status == .settle ? waits + 1 : 0
                    if waits > 3 { break }  // waits for edges left aside without an entry: nothing to settle
                    if step.status == .settle { try await runner.settleAll() }
                }
            }
        }
        return reply.stale.count
    }

    /// Continues unowned operations (run stops, child runs being cancelled) until none is left:
    /// cancelling a run whose tasks wait for child runs starts their cancellations, and so on
    /// down. Bounded by `rounds`; the maintenance pass goes on with anything left.
    package func continueUnownedWork(rounds: Int = 32) async throws(JobqError) {
        for _ in 0..<rounds where try await continueBoundedWork(staleAfter: .zero) > 0 {}
    }

    /// Takes the maintenance lock for `duration` if nobody holds it (SET NX PX).
    package func tryMaintenanceLock(owner: String, for duration: Duration) async throws(JobqError) -> Bool {
        let reply = try await runner.send(RedisCommand("SET", [
            RedisArgument(runner.keys.maintenanceLock), RedisArgument(owner), "NX", "PX", RedisArgument(Int(duration.jobqMilliseconds)),
        ]), doing: "maintenance lock", isWrite: true)
        return !reply.isNull
    }
}
