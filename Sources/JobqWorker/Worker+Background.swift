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

    /// Every `maintenanceInterval`: if this worker wins the lock, reap expired leases and promote
    /// due delayed tasks. Also keeps the Redis clock offset fresh.
    func maintenanceLoop() async {
        var passes = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.maintenanceInterval)
            if Task.isCancelled { return }
            passes += 1
            if passes % 60 == 0 { await refreshClockOffset() }
            do {
                guard let pass = try await store.maintain(owner: id, interval: configuration.maintenanceInterval) else { continue }
                let reaped = pass.reaped
                if !reaped.isEmpty {
                    metrics.reaped.increment(by: reaped.count)
                    logger.notice("reaped tasks whose worker stopped heartbeating", metadata: [
                        "tasks": .string(reaped.map { "\($0.id)→\($0.state?.rawValue ?? "?")" }.joined(separator: ",")),
                    ])
                }
                state.withLock { $0.nextDue = pass.promote.nextDue }
            } catch {
                metrics.redisError("maintenance")
                logger.debug("maintenance pass failed", metadata: ["error": .string(error.description)])
            }
        }
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
