import JobqCore
import Logging

/// Reports sent in the background: queued per task, sent every `reportInterval`.
struct PendingReports {
    var reporters: [TaskReporter] = []
}

/// The periodic loops: heartbeats, maintenance, progress/log flushing.
extension Worker {
    // MARK: Heartbeats

    /// Every `heartbeat`: extend every held lease in one call, learn cancellations, refresh the
    /// worker's registration.
    func heartbeatLoop() async {
        var streak = ErrorStreak(operation: "heartbeat")
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.heartbeat)
            if Task.isCancelled { return }
            let runs = state.withLock { Array($0.lifecycle.held.values) }
            await heartbeat(runs, streak: &streak)
            await registerSelf()
        }
    }

    /// Extends the leases of `runs` and acts on the answers: stops cancelled and lost tasks.
    func heartbeat(_ runs: [RunningTask], streak: inout ErrorStreak) async {
        guard !runs.isEmpty else { return }
        do {
            let results = try await store.heartbeat(runs.map(\.lease), lease: configuration.lease, worker: id)
            streak.succeeded(logger)
            for (run, result) in zip(runs, results) {
                guard let reason = OutcomeRules.heartbeatAnswer(result, settled: run.isSettled) else { continue }
                if reason == .leaseLost, case .refused(let code) = result {
                    logger.warning("lost the lease of a running task", metadata: Self.metadata(run).merging(["refusal": .string(code.rawValue)]) { $1 })
                }
                stop(run, reason)
            }
        } catch {
            metrics.redisError("heartbeat")
            // No backoff sleep here: the next heartbeat is the retry.
            if streak.count == 0 {
                logger.warning("heartbeat failed; leases are extended again at the next one", metadata: ["error": .string(error.description)])
            }
            streak.count += 1
        }
    }

    /// Waits on the worker's control list: when a task it runs is cancelled, heartbeat that task
    /// at once, so the handler is stopped now rather than at the next heartbeat.
    func controlLoop() async {
        var streak = ErrorStreak(operation: "control")
        while !Task.isCancelled {
            do {
                let ids = Set(try await store.waitForControl(worker: id, timeout: .seconds(5)))
                if ids.isEmpty { continue }
                let runs = state.withLock { $0.lifecycle.held.values.filter { ids.contains($0.lease.id) } }
                await heartbeat(Array(runs), streak: &streak)
            } catch {
                if Task.isCancelled { return }
                // Redis away: the heartbeat loop reports it; retry after a pause.
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    // MARK: Maintenance

    /// Wakes for the next maintenance pass (every `maintenanceInterval`: if this worker wins the
    /// lock, reap expired leases and promote due delayed tasks) or the next known due time of a
    /// delayed task, whichever comes first (then just promote), as ``MaintenanceSchedule``
    /// decides. Also keeps the Redis clock offset fresh.
    func maintenanceLoop() async {
        var passes = 0
        while !Task.isCancelled {
            let wake = state.withLock { $0.schedule.next.at }
            if wake > .now {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { try? await Task.sleep(until: wake, tolerance: .milliseconds(1), clock: .continuous) }
                    group.addTask { await self.scheduleChanged.wait() }
                    await group.next()
                    group.cancelAll()
                }
            }
            if Task.isCancelled { return }
            let (at, action) = state.withLock { $0.schedule.next }
            guard at <= .now else { continue }  // woken early: an earlier due time was learned
            switch action {
            case .promote:
                await promoteDue()
            case .pass:
                passes += 1
                if passes % 60 == 0 { await refreshClockOffset() }
                await maintenancePass()
            }
        }
    }

    /// One fleet-wide pass, if this worker wins the lock.
    private func maintenancePass() async {
        do {
            let pass = try await store.maintain(owner: id, interval: configuration.maintenanceInterval)
            let due: ContinuousClock.Instant?? = pass.map { $0.promote.nextDue.map { localInstant(redisMilliseconds: $0) } }
            state.withLock { $0.schedule.passDone(at: .now, nextDue: due) }
            if let pass, !pass.scheduledRuns.isEmpty {
                logger.info("schedules fired", metadata: ["runs": .string(pass.scheduledRuns.joined(separator: ","))])
            }
            for failure in pass?.scheduleErrors ?? [] {
                logger.warning("a schedule could not fire; it stays due", metadata: ["error": .string(failure)])
            }
            guard let reaped = pass?.reaped, !reaped.isEmpty else { return }
            metrics.reaped.increment(by: reaped.count)
            logger.notice("reaped tasks whose worker stopped heartbeating", metadata: [
                "tasks": .string(reaped.map { "\($0.id)→\($0.state?.rawValue ?? "?")" }.joined(separator: ",")),
            ])
        } catch {
            state.withLock { $0.schedule.passDone(at: .now, nextDue: nil) }
            metrics.redisError("maintenance")
            logger.debug("maintenance pass failed", metadata: ["error": .string(error.description)])
        }
    }

    /// Runs `promote` (idempotent, so no lock needed) and remembers the next due time.
    func promoteDue() async {
        do {
            let result = try await store.promoteDueTasks()
            let due = result.nextDue.map { localInstant(redisMilliseconds: $0) }
            state.withLock { $0.schedule.promoteDone(at: .now, nextDue: due) }
            if result.promoted > 0 {
                logger.debug("promoted delayed tasks", metadata: ["count": .stringConvertible(result.promoted)])
            }
        } catch {
            // Forget the due time rather than retry at once; the next pass learns it again.
            state.withLock { $0.schedule.promoteDone(at: .now, nextDue: nil) }
            metrics.redisError("promote")
            logger.debug("promote failed", metadata: ["error": .string(error.description)])
        }
    }

    /// A delayed task (a retry this worker just recorded) falls due after `delay`: wake the
    /// maintenance loop then, if that is earlier than it planned.
    func learnDue(after delay: Duration) {
        let earlier = state.withLock { $0.schedule.learned(due: .now + delay) }
        if earlier { scheduleChanged.notify() }
    }

    /// A rate key this worker's claim parked tasks on may start again at `ms` (Redis time):
    /// promote then, which wakes them; the idle claim loops wait on their wake-up keys meanwhile.
    func learnDue(atRedisMilliseconds ms: Int64) {
        let due = localInstant(redisMilliseconds: ms)
        let earlier = state.withLock { $0.schedule.learned(due: due) }
        if earlier { scheduleChanged.notify() }
    }

    // MARK: Progress and logs

    func scheduleReport(_ reporter: TaskReporter) {
        reports.withLock { $0.reporters.append(reporter) }
        reportsQueued.notify()
    }

    /// Sends buffered progress and log lines at most every `reportInterval`.
    func reportLoop() async {
        while true {
            await reportsQueued.wait()
            if state.withLock({ $0.lifecycle.phase >= .finishing }) { return }
            try? await Task.sleep(for: configuration.reportInterval)
            let due = reports.withLock { pending -> [TaskReporter] in
                defer { pending.reporters = [] }
                return pending.reporters
            }
            guard !due.isEmpty else { continue }
            let store = store
            let logger = logger
            await withTaskGroup(of: Void.self) { group in
                for reporter in due {
                    group.addTask {
                        do throws(JobqError) {
                            try await reporter.flush(store)
                        } catch {
                            logger.debug("could not send progress or log lines", metadata: ["task": .string(reporter.lease.id), "error": .string(error.description)])
                        }
                    }
                }
            }
        }
    }
}
