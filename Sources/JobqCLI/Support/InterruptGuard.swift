import Dispatch
import Foundation

/// Ends the process on a signal, from a dispatch source (the cooperative pool may be blocked
/// in a read meanwhile): Ctrl-C during a live redraw, Ctrl-C or SIGTERM of a follower.
final class InterruptGuard {
    private let signals: [Int32]
    private let sources: [any DispatchSourceSignal]

    private init(signals: [Int32], sources: [any DispatchSourceSignal]) {
        self.signals = signals
        self.sources = sources
    }

    /// Ctrl-C during `watch`'s live redraw: put the cursor back and exit 130 (the tasks go on).
    static func install() -> InterruptGuard {
        install(signals: [SIGINT]) {
            Console.raw("\u{1B}[?25h\n")
            Console.err("jobq: stopped watching (the tasks go on)")
            exit(ExitStatus.interrupted.rawValue)
        }
    }

    /// `jobq events -f`: Ctrl-C or SIGTERM is how a follower is meant to end (`journalctl -f`,
    /// `kubectl get events -w`), so it ends quietly with 0. Every line was written whole with
    /// write(2), so nothing is left to flush; `_exit` skips atexit handlers racing other threads.
    static func installQuietEnd() -> InterruptGuard {
        install(signals: [SIGINT, SIGTERM]) { _exit(ExitStatus.ok.rawValue) }
    }

    private static func install(signals: [Int32], handler: @escaping @Sendable () -> Void) -> InterruptGuard {
        let sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
        return InterruptGuard(signals: signals, sources: sources)
    }

    func cancel() {
        for source in sources { source.cancel() }
        for number in signals { signal(number, SIG_DFL) }
    }
}
