import Synchronization

/// A wake-up flag one task waits on and any thread sets: `notify()` before `wait()` is not lost.
///
/// Used by the worker's loops to sleep until there is something to do, without polling.
final class AsyncSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Wakes the waiter, or makes the next `wait()` return at once.
    func notify() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns once `notify()` has been called since the last `wait()` (one waiter at a time).
    /// Task cancellation also returns (the caller re-checks its state).
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            notify()
        }
    }
}
