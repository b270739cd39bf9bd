import Dispatch
import Foundation
import Synchronization

/// Ignores `signals` from now on (so that Ctrl-C reaches only the children), and can wait for
/// one of them or for a child to exit.
final class SignalWaiter {
    enum Reason: Sendable { case signal, exited(Int32) }

    private let signals: [Int32]
    /// Created (and resumed) only when waiting: libdispatch traps when a never-resumed source is freed.
    private var sources: [any DispatchSourceSignal] = []

    init(signals: [Int32]) {
        self.signals = signals
        for number in signals { signal(number, SIG_IGN) }
    }

    func waitOrExit(of process: Subprocess) async -> Reason {
        let sources = signals.map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
        self.sources = sources
        return await withCheckedContinuation { (continuation: CheckedContinuation<Reason, Never>) in
            let once = OnceResume(continuation)
            for source in sources {
                source.setEventHandler { once.resume(.signal) }
                source.resume()
            }
            Task {
                let status = await process.waitForExit()
                once.resume(.exited(status))
            }
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
        sources = []
        for number in signals { signal(number, SIG_DFL) }
    }
}


/// Resumes a continuation at most once, from whichever event comes first.
final class OnceResume<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ value: Value) {
        continuation.withLock { stored in
            stored?.resume(returning: value)
            stored = nil
        }
    }
}
