import Foundation
import JobqSpawn
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process in its own process group, fed on stdin, with stdout captured and stderr
/// streamed line by line. Used by command handlers.
///
/// The child is started with a clean signal mask and default signal dispositions (the worker
/// ignores or blocks some signals; a child must not inherit that) under a supervisor shim
/// (``SpawnOptions/dieWithParent``): the shim leads the command's process group and SIGKILLs it
/// when the worker dies, even by SIGKILL, so no handler runs on as an orphan and races its own
/// re-run after the reap. The pid below is the shim's; its exit status is the command's. The
/// spawn, all pipe I/O and the wait for the exit happen on a dedicated thread, never on Swift's
/// cooperative pool.
///
/// Stopping (task cancellation of the awaiting task, or the command's own timeout) sends SIGTERM
/// to the whole process group (the shim ignores it; the command gets it), then SIGKILL after the
/// kill grace. When the command exits, whatever it left running in its process group is killed
/// too (by the shim at once, and again here once the shim has exited), so a task's processes
/// never outlive it.
enum CommandProcess {
    struct Invocation: Sendable {
        var executable: String
        var arguments: [String]
        var environment: [String: String]
        var workingDirectory: String?
        var stdin: [UInt8]
        /// Stdout bytes kept; more is read and discarded (and reported as truncated).
        var stdoutLimit: Int
        /// From SIGTERM to SIGKILL.
        var killGrace: Duration
        /// The command's own time limit, if any.
        var timeout: Duration?
    }

    enum Termination: Sendable, Hashable {
        case exited(Int32)
        case signaled(Int32)
    }

    struct Result: Sendable {
        var termination: Termination
        var stdout: [UInt8]
        var stdoutTruncated: Bool
        /// Stopped because its own timeout passed.
        var timedOut: Bool
        /// Stopped because the awaiting task was cancelled.
        var cancelled: Bool
        var pid: pid_t
    }

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    /// Process groups of running commands, for ``killAll(signal:)``.
    private static let running = Mutex<Set<pid_t>>([])

    /// Sends `signal` to the process group of every running command (e.g. before a forced exit).
    static func killAll(signal: Int32) {
        for group in running.withLock({ $0 }) { kill(-group, signal) }
    }

    /// Runs the command to its end. Cancelling the calling task stops the process group
    /// (SIGTERM, then SIGKILL after the kill grace) and still waits for it to exit.
    static func run(_ invocation: Invocation, onStderrLine: @escaping @Sendable (String) -> Void) async throws -> Result {
        let control = Control(killGrace: invocation.killGrace)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
                // Forking (and waiting for the exec) happens on the command's own thread too.
                let thread = Thread {
                    let spawned: Spawned
                    do {
                        spawned = try spawn(invocation)
                    } catch {
                        continuation.resume(throwing: error)
                        return
                    }
                    running.withLock { _ = $0.insert(spawned.pid) }
                    control.started(pid: spawned.pid, timeout: invocation.timeout)
                    let result = pump(spawned, invocation: invocation, control: control, onStderrLine: onStderrLine)
                    running.withLock { _ = $0.remove(spawned.pid) }
                    continuation.resume(returning: result)
                }
                thread.name = "jobq-command"
                thread.start()
            }
        } onCancel: {
            control.terminate(cancelled: true)
        }
    }

    // MARK: Stop requests (any thread)

    /// What the I/O thread needs to know about stop requests.
    final class Control: Sendable {
        private struct State {
            var pid: pid_t = 0
            var terminateAt: ContinuousClock.Instant?
            var killed = false
            var cancelled = false
            var timedOut = false
            var deadline: ContinuousClock.Instant?
        }

        private let state = Mutex(State())
        let killGrace: Duration

        init(killGrace: Duration) { self.killGrace = killGrace }

        func started(pid: pid_t, timeout: Duration?) {
            let terminateNow = state.withLock { state -> Bool in
                state.pid = pid
                state.deadline = timeout.map { ContinuousClock.now + $0 }
                return state.terminateAt != nil
            }
            if terminateNow { kill(-pid, SIGTERM) }
        }

        /// SIGTERM to the group now (once); SIGKILL follows from the I/O thread after the grace.
        func terminate(cancelled: Bool = false, timedOut: Bool = false) {
            let pid = state.withLock { state -> pid_t in
                if cancelled { state.cancelled = true }
                if timedOut { state.timedOut = true }
                guard state.terminateAt == nil else { return 0 }
                state.terminateAt = .now
                return state.pid
            }
            if pid > 0 { kill(-pid, SIGTERM) }
        }

        /// Called by the I/O thread on every wake-up: applies the timeout and the SIGKILL escalation.
        func tick() {
            let now = ContinuousClock.now
            if let deadline = state.withLock({ $0.terminateAt == nil ? $0.deadline : nil }), now >= deadline {
                terminate(timedOut: true)
            }
            let pid = state.withLock { state -> pid_t in
                guard let at = state.terminateAt, !state.killed, now >= at + killGrace else { return 0 }
                state.killed = true
                return state.pid
            }
            if pid > 0 { kill(-pid, SIGKILL) }
        }

        var isStopping: Bool { state.withLock { $0.terminateAt != nil } }
        var flags: (cancelled: Bool, timedOut: Bool) { state.withLock { ($0.cancelled, $0.timedOut) } }
    }

    // MARK: Spawning

    struct Spawned: Sendable {
        let pid: pid_t
        let stdin: Int32
        let stdout: Int32
        let stderr: Int32
    }

    private static func spawn(_ invocation: Invocation) throws -> Spawned {
        signal(SIGPIPE, SIG_IGN)
        guard let path = resolve(invocation.executable, in: invocation.environment["PATH"]) else {
            throw SpawnError(description: "command \(invocation.executable) not found (searched PATH=\(invocation.environment["PATH"] ?? "")); use an absolute path or fix PATH")
        }
        // Pipes are made close-on-exec under the same lock every spawn takes, so no concurrent
        // spawn of ours can inherit another command's pipe (which would hold its EOF back).
        spawnLock.lock()
        defer { spawnLock.unlock() }
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        guard pipe(&input) == 0, pipe(&output) == 0, pipe(&errors) == 0 else {
            let code = errno
            for fd in input + output + errors where fd >= 0 { close(fd) }
            throw SpawnError(description: "cannot create pipes: \(String(cString: strerror(code)))")
        }
        for fd in input + output + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        // A process group of its own, so cancel and timeout can signal the command and
        // everything it started; led by a shim that kills that group if the worker dies.
        let options = SpawnOptions(
            environment: invocation.environment, stdin: .descriptor(input[0]), stdout: .descriptor(output[1]),
            stderr: .descriptor(errors[1]), workingDirectory: invocation.workingDirectory, dieWithParent: true
        )
        let pid: pid_t
        do {
            pid = try spawnProcess(path, invocation.arguments, options)
        } catch {
            for fd in input + output + errors { close(fd) }
            throw SpawnError(description: error.description)
        }
        close(input[0])
        close(output[1])
        close(errors[1])
        _ = fcntl(input[1], F_SETFL, fcntl(input[1], F_GETFL) | O_NONBLOCK)
        return Spawned(pid: pid, stdin: input[1], stdout: output[0], stderr: errors[0])
    }

    private static let spawnLock = NSLock()

    /// The executable for `name`: itself if it contains a slash, else the first match on `path`.
    static func resolve(_ name: String, in path: String?) -> String? {
        if name.contains("/") { return name }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    // MARK: The I/O thread

    /// Feeds stdin, drains stdout and stderr, applies stop requests, reaps the child.
    private static func pump(_ spawned: Spawned, invocation: Invocation, control: Control, onStderrLine: @Sendable (String) -> Void) -> Result {
        var stdinFD = spawned.stdin
        var stdoutFD = spawned.stdout
        var stderrFD = spawned.stderr
        var written = 0
        var stdout: [UInt8] = []
        var truncated = false
        var lineBuffer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var exitedAt: ContinuousClock.Instant?
        let maxLine = 4096

        func emitLines(final: Bool) {
            while let newline = lineBuffer.firstIndex(of: 0x0A) {
                let line = lineBuffer[..<newline]
                onStderrLine(String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self))
                lineBuffer.removeSubrange(...newline)
            }
            if lineBuffer.count > maxLine || (final && !lineBuffer.isEmpty) {
                onStderrLine(String(decoding: lineBuffer, as: UTF8.self))
                lineBuffer.removeAll()
            }
        }

        if invocation.stdin.isEmpty {
            close(stdinFD)
            stdinFD = -1
        }
        // Readable once the child has exited: the exit wakes the poll below at once, even when
        // its pipes reached end of file a moment before it became a zombie (without it, that
        // race cost a whole poll timeout, 200 ms, before the outcome could be sent).
        var exitFD = processDescriptor(spawned.pid) ?? -1
        defer { if exitFD >= 0 { close(exitFD) } }
        while true {
            control.tick()
            // The child has exited (or not): check without reaping, so its process group id
            // stays reserved until the stragglers in it have been killed.
            if exitedAt == nil {
                var info = siginfo_t()
                if waitid(P_PID, id_t(spawned.pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0, info._sifields._kill.si_pid == spawned.pid {
                    exitedAt = .now
                    if exitFD >= 0 {
                        close(exitFD)
                        exitFD = -1
                    }
                    kill(-spawned.pid, SIGKILL)  // whatever it left behind in its group
                    if stdinFD >= 0 {
                        close(stdinFD)
                        stdinFD = -1
                    }
                }
            }
            if let exitedAt {
                // Done once the pipes are drained; a process outside the group that still holds
                // them (it called setsid) gets 2 s, then the pipes are closed on it.
                if stdoutFD < 0 && stderrFD < 0 { break }
                if ContinuousClock.now - exitedAt > .seconds(2) { break }
            }

            var fds: [pollfd] = []
            if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            if exitFD >= 0 { fds.append(pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0)) }
            // Without a process descriptor (old kernels), pipes at end of file usually mean the
            // exit is a moment away: look again soon rather than after the idle timeout.
            let exitIsNear = exitFD < 0 && stdoutFD < 0 && stderrFD < 0
            let timeout: Int32 = control.isStopping || exitedAt != nil ? 20 : exitIsNear ? 10 : 200
            if fds.isEmpty {
                usleep(UInt32(timeout) * 1000)
                continue
            }
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            guard ready > 0 else { continue }
            for entry in fds where entry.revents != 0 {
                if entry.fd == exitFD { continue }  // the exit is handled at the top of the loop
                if entry.fd == stdinFD {
                    let count = invocation.stdin.withUnsafeBytes { bytes in
                        write(stdinFD, bytes.baseAddress! + written, bytes.count - written)
                    }
                    if count > 0 { written += count }
                    if (count < 0 && errno != EAGAIN && errno != EINTR) || written >= invocation.stdin.count || entry.revents & Int16(POLLERR | POLLHUP) != 0 {
                        close(stdinFD)
                        stdinFD = -1
                    }
                    continue
                }
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if entry.fd == stdoutFD {
                        let room = invocation.stdoutLimit + 1 - stdout.count
                        if room > 0 { stdout.append(contentsOf: buffer[0..<min(count, room)]) }
                        if count > room { truncated = true }
                    } else {
                        lineBuffer.append(contentsOf: buffer[0..<count])
                        emitLines(final: false)
                    }
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    close(entry.fd)
                    if entry.fd == stdoutFD { stdoutFD = -1 } else {
                        stderrFD = -1
                        emitLines(final: true)
                    }
                }
            }
        }
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { close(fd) }
        emitLines(final: true)

        var raw: Int32 = 0
        while waitpid(spawned.pid, &raw, 0) < 0 && errno == EINTR {}
        let termination: Termination
        if raw & 0x7F == 0 {
            termination = .exited((raw >> 8) & 0xFF)
        } else {
            termination = .signaled(raw & 0x7F)
        }
        if stdout.count > invocation.stdoutLimit {
            stdout.removeLast(stdout.count - invocation.stdoutLimit)
            truncated = true
        }
        let flags = control.flags
        return Result(termination: termination, stdout: stdout, stdoutTruncated: truncated, timedOut: flags.timedOut, cancelled: flags.cancelled, pid: spawned.pid)
    }
}
