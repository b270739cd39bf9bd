import JobqCore
import Synchronization

/// The progress and log lines of one running task, buffered between flushes.
///
/// Handlers report as often as they like; the worker sends what accumulated at most every
/// `reportInterval` (one fenced `report` call per task) and once more before the task's outcome.
/// Only the latest value of each progress group is kept; log lines beyond the buffer cap drop the
/// oldest ones, and a line saying how many were dropped takes their place.
final class TaskReporter: Sendable {
    private struct State {
        var progress: [String: ProgressEntry] = [:]
        var lines: [String] = []
        var dropped = 0
        /// Handed to the flusher and not yet taken.
        var scheduled = false
        /// A `report` call is in flight; later flushes wait for it so lines stay in order.
        var flushing = false
        var flushWaiters: [CheckedContinuation<Void, Never>] = []
        /// The outcome has been (or is being) reported: later reports are dropped.
        var closed = false
    }

    let lease: TaskLease
    private let maxLines: Int
    private let state = Mutex(State())
    /// Called (once per batch) when something is waiting to be sent.
    private let schedule: @Sendable (TaskReporter) -> Void

    init(lease: TaskLease, maxLines: Int, schedule: @escaping @Sendable (TaskReporter) -> Void) {
        self.lease = lease
        self.maxLines = maxLines
        self.schedule = schedule
    }

    func add(progress entry: ProgressEntry) {
        let key = entry.group.joined(separator: "/")
        enqueue { $0.progress[key] = entry }
    }

    func add(line: String) {
        let cap = maxLines
        enqueue { state in
            state.lines.append(line)
            if state.lines.count > cap {
                let excess = state.lines.count - cap
                state.lines.removeFirst(excess)
                state.dropped += excess
            }
        }
    }

    private func enqueue(_ change: (inout State) -> Void) {
        let needsSchedule = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            change(&state)
            if state.scheduled { return false }
            state.scheduled = true
            return true
        }
        if needsSchedule { schedule(self) }
    }

    /// Whether anything waits to be sent.
    var hasPending: Bool {
        state.withLock { !$0.progress.isEmpty || !$0.lines.isEmpty || $0.flushing }
    }

    /// Sends what is buffered (after any flush in flight). With `closing`, later reports are dropped.
    func flush(_ store: any TaskLeaseStore, closing: Bool = false) async throws(JobqError) {
        // Take the turn: wait for a flush in flight, so lines reach Redis in order.
        while true {
            let mustWait = state.withLock { state -> Bool in
                if closing { state.closed = true }
                if state.flushing { return true }
                state.flushing = true
                return false
            }
            if !mustWait { break }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.flushing { return true }
                    state.flushWaiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        let (progress, lines) = state.withLock { state -> ([ProgressEntry], [String]) in
            state.scheduled = false
            var lines = state.lines
            if state.dropped > 0 {
                lines.insert("[jobq: \(state.dropped) earlier log line\(state.dropped == 1 ? "" : "s") dropped: the handler logged faster than they could be sent]", at: 0)
                state.dropped = 0
            }
            let progress = state.progress.values.sorted { $0.group.lexicographicallyPrecedes($1.group) }
            state.progress = [:]
            state.lines = []
            return (progress, lines)
        }
        defer {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.flushing = false
                let waiters = state.flushWaiters
                state.flushWaiters = []
                return waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        guard !progress.isEmpty || !lines.isEmpty else { return }
        try await store.report(lease, progress: progress, log: lines)
    }
}
