import Synchronization

/// One loop for every running task's deadlines: task timeouts, and the stop timeout of handlers
/// told to stop. It sleeps until the earliest deadline (not a timer per task, and no ticking
/// while idle) and is woken early only when a task with an earlier deadline arrives.
final class DeadlineWatcher: Sendable {
    private struct State {
        var runs: [ObjectIdentifier: RunningTask] = [:]
        var sleeper: Task<Void, Never>?
        var target: ContinuousClock.Instant?
        /// Something changed since the loop last looked: look again before sleeping.
        var dirty = false
        var stopped = false
    }

    private let state = Mutex(State())

    func track(_ run: RunningTask) {
        let wake = state.withLock { state -> Task<Void, Never>? in
            state.runs[ObjectIdentifier(run)] = run
            if let target = state.target, target <= run.deadline { return nil }
            state.dirty = true
            return state.sleeper
        }
        wake?.cancel()
    }

    func untrack(_ run: RunningTask) {
        _ = state.withLock { $0.runs.removeValue(forKey: ObjectIdentifier(run)) }
    }

    /// Makes the loop look again now (a stop deadline was set).
    func nudge() {
        let wake = state.withLock { state -> Task<Void, Never>? in
            state.dirty = true
            return state.sleeper
        }
        wake?.cancel()
    }

    func stop() {
        let wake = state.withLock { state -> Task<Void, Never>? in
            state.stopped = true
            return state.sleeper
        }
        wake?.cancel()
    }

    func run(_ worker: Worker) async {
        while true {
            let runs = state.withLock { state -> [RunningTask]? in
                if state.stopped { return nil }
                state.dirty = false
                state.target = nil
                return Array(state.runs.values)
            }
            guard let runs else { return }
            let now = ContinuousClock.now
            var earliest: ContinuousClock.Instant?
            var dropped: [RunningTask] = []
            for run in runs {
                switch run.check(now: now) {
                case .timedOut:
                    // Sets the stop deadline and nudges: the next round looks at that.
                    worker.stop(run, .timeout)
                    continue
                case .reportOverdueStop(let reason):
                    dropped.append(run)
                    worker.logger.warning("the handler did not stop within the stop timeout; reporting its outcome anyway (its slot stays busy until it returns)", metadata: Worker.metadata(run))
                    Task { await worker.report(worker.stopOutcome(reason, run), for: run) }
                    continue
                case .none:
                    break
                }
                guard let check = run.nextCheck() else {
                    dropped.append(run)
                    continue
                }
                earliest = min(earliest ?? check, check)
            }
            let sleeper = state.withLock { state -> Task<Void, Never>? in
                for run in dropped { state.runs.removeValue(forKey: ObjectIdentifier(run)) }
                if state.dirty || state.stopped { return nil }
                let target = earliest ?? now + .seconds(3600)
                state.target = target
                let sleeper = Task { _ = try? await Task.sleep(until: target, tolerance: .milliseconds(5), clock: .continuous) }
                state.sleeper = sleeper
                return sleeper
            }
            if let sleeper { await sleeper.value }
        }
    }
}
