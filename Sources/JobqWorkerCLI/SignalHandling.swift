import Foundation
import Synchronization

/// SIGTERM and SIGINT, turned into calls on a dedicated thread.
///
/// The handler only writes the signal number to a pipe (async-signal-safe); a thread reads it and
/// calls `onSignal` with the signal and how many such signals arrived so far. Installing a handler
/// (rather than relying on a signal mask and `sigwait`) works whatever mask the process inherited.
enum SignalHandling {
    // Safety: written once in `install`, before any handler that reads it is installed; read
    // only by the signal handler (a plain load, async-signal-safe).
    nonisolated(unsafe) private static var pipeWriteEnd: Int32 = -1

    static func install(_ signals: [Int32], onSignal: @escaping @Sendable (_ signal: Int32, _ count: Int) -> Void) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        pipeWriteEnd = fds[1]
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                var byte = UInt8(truncatingIfNeeded: signal)
                _ = write(SignalHandling.pipeWriteEnd, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
            sigaddset(&unblock, signal)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        let readEnd = fds[0]
        let thread = Thread {
            var count = 0
            while true {
                var byte: UInt8 = 0
                let result = read(readEnd, &byte, 1)
                if result < 0 && errno == EINTR { continue }
                guard result == 1 else { return }
                count += 1
                onSignal(Int32(byte), count)
            }
        }
        thread.name = "jobq-signals"
        thread.start()
    }

    static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGHUP: "SIGHUP"
        default: "signal \(signal)"
        }
    }
}
