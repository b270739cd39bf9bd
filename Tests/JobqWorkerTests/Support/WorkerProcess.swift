import Foundation
import JobqSpawn
import JobqTestSupport
import Synchronization
import Testing

/// A `jobq-worker` process started by a test: output captured line by line (stdout and stderr
/// together), its exit awaited without polling (a thread blocks in `waitpid`).
final class WorkerProcess: Sendable {
    let pid: pid_t
    private let output = Mutex<Output>(Output())
    private let exit = Mutex<Exit>(Exit())

    private struct Output {
        var lines: [String] = []
        var partial: [UInt8] = []
        var waiters: [(String, CheckedContinuation<String?, Never>)] = []
        var closed = false
    }

    private struct Exit {
        /// Published once the process is reaped and its output fully read.
        var status: Int32?
        var reaped: Int32?
        var outputClosed = false
        var waiters: [CheckedContinuation<Int32, Never>] = []
    }

    /// `.build/<triple>/debug/jobq-worker`, next to the test bundle.
    static func executable() throws -> String {
        guard let path = builtExecutable("jobq-worker") else {
            Issue.record("jobq-worker not found next to the test bundle; build it first: swift build --product jobq-worker")
            throw HarnessError.timeout
        }
        return path
    }

    /// Starts `jobq-worker arguments…` with a clean signal mask, no JOBQ_* from the test's
    /// environment, plus `environment`.
    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> WorkerProcess {
        let executable = try executable()
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw HarnessError.timeout }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)

        let pid: pid_t
        do {
            pid = try spawnProcess(executable, arguments, SpawnOptions(environment: cleanJobqEnvironment(environment), stdout: .descriptor(fds[1])))
        } catch {
            close(fds[0])
            close(fds[1])
            Issue.record("\(error)")
            throw HarnessError.timeout
        }
        close(fds[1])
        let process = WorkerProcess(pid: pid)
        let readEnd = fds[0]
        Thread { process.readOutput(readEnd) }.start()
        Thread { process.reap() }.start()
        return process
    }

    private init(pid: pid_t) { self.pid = pid }

    private func readOutput(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            let ready = output.withLock { output -> [(CheckedContinuation<String?, Never>, String)] in
                output.partial += buffer[0..<count]
                var matched: [(CheckedContinuation<String?, Never>, String)] = []
                while let newline = output.partial.firstIndex(of: 10) {
                    let line = String(decoding: output.partial[..<newline], as: UTF8.self)
                    output.partial.removeSubrange(...newline)
                    output.lines.append(line)
                    output.waiters.removeAll { needle, continuation in
                        guard line.contains(needle) else { return false }
                        matched.append((continuation, line))
                        return true
                    }
                }
                return matched
            }
            for (continuation, line) in ready { continuation.resume(returning: line) }
        }
        close(fd)
        let waiters = output.withLock { output -> [CheckedContinuation<String?, Never>] in
            output.closed = true
            defer { output.waiters = [] }
            return output.waiters.map(\.1)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        publishExit { $0.outputClosed = true }
    }

    private func reap() {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let status = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        publishExit { $0.reaped = status }
    }

    private func publishExit(_ change: (inout Exit) -> Void) {
        let (waiters, status) = exit.withLock { exit -> ([CheckedContinuation<Int32, Never>], Int32) in
            change(&exit)
            guard exit.outputClosed, let status = exit.reaped else { return ([], 0) }
            exit.status = status
            defer { exit.waiters = [] }
            return (exit.waiters, status)
        }
        for waiter in waiters { waiter.resume(returning: status) }
    }

    /// Everything printed so far.
    var text: String { output.withLock { $0.lines.joined(separator: "\n") } }

    func send(_ signal: Int32) { Glibc.kill(pid, signal) }

    /// The first line (already printed or still to come) containing `needle`.
    func line(containing needle: String, timeout: Duration = .seconds(15)) async throws -> String {
        let found: String?? = try await withDeadline(timeout) { () async -> String? in
            await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                let now = self.output.withLock { output -> String?? in
                    if let line = output.lines.first(where: { $0.contains(needle) }) { return .some(line) }
                    if output.closed { return .some(nil) }
                    output.waiters.append((needle, continuation))
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        }
        guard let found = found ?? nil else {
            Issue.record("jobq-worker never printed a line containing \"\(needle)\"; it printed:\n\(text)")
            throw HarnessError.timeout
        }
        return found
    }

    /// The exit status (128+n for signal n).
    func exitStatus(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let status: Int32? = try await withDeadline(timeout) {
            await withCheckedContinuation { continuation in
                let now = self.exit.withLock { exit -> Int32? in
                    if let status = exit.status { return status }
                    exit.waiters.append(continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        }
        guard let status else {
            Glibc.kill(pid, SIGKILL)
            Issue.record("jobq-worker did not exit within \(timeout); it printed:\n\(text)")
            throw HarnessError.timeout
        }
        return status
    }

    /// Kills the process if it still runs (for cleanup after a failed test).
    func kill() {
        if exit.withLock({ $0.reaped == nil }) { Glibc.kill(pid, SIGKILL) }
    }
}

/// `body`'s value, or `nil` if `timeout` passes first (the body keeps running detached).
func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async -> T) async throws -> T? {
    let box = Box<CheckedContinuation<T?, Never>?>(nil)
    @Sendable func take() -> CheckedContinuation<T?, Never>? {
        var taken: CheckedContinuation<T?, Never>?
        box.update { swap(&taken, &$0) }
        return taken
    }
    return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
        box.set(continuation)
        Task {
            let value = await body()
            take()?.resume(returning: value)
        }
        Task {
            try? await Task.sleep(for: timeout)
            take()?.resume(returning: nil)
        }
    }
}
