import Dispatch
import Foundation

/// Ctrl-C during a live redraw: put the cursor back and exit 130 (the tasks go on).
final class InterruptGuard {
    private let source: any DispatchSourceSignal

    private init(source: any DispatchSourceSignal) { self.source = source }

    static func install() -> InterruptGuard {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            Console.raw("\u{1B}[?25h\n")
            Console.err("jobq: stopped watching (the tasks go on)")
            exit(ExitStatus.interrupted.rawValue)
        }
        source.resume()
        return InterruptGuard(source: source)
    }

    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
