import Foundation
import JobqSpawn
import Synchronization

/// A redis-server (or other helper) started with JobqSpawn's `spawnProcess`: a clean signal
/// mask, since one started through Foundation's `Process` would ignore `stop()`.
final class ChildProcess: Sendable {
    let pid: pid_t
    private let exitStatus = Mutex<Int32?>(nil)

    private init(pid: pid_t) { self.pid = pid }

    /// Starts `executable` with `arguments`; stdin, stdout and stderr go to /dev/null.
    static func spawn(_ executable: String, _ arguments: [String]) throws -> ChildProcess {
        do {
            return ChildProcess(pid: try spawnProcess(executable, arguments))
        } catch {
            throw FixtureError(error.description)
        }
    }

    /// Whether the child is still running (reaps it once it has exited).
    var isRunning: Bool {
        exitStatus.withLock { status in
            if status != nil { return false }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == 0 { return true }
            status = result == pid ? raw : -1
            return false
        }
    }

    /// The raw wait status once exited.
    var terminationStatus: Int32? {
        _ = isRunning
        return exitStatus.withLock { $0 }
    }

    func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Polls until the child has exited or `timeout` passed; true if it exited.
    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return true
    }
}
