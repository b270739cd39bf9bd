import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn`, with a clean signal mask and default signal
/// handlers, so it reacts to SIGINT/SIGTERM whatever this process blocks or ignores.
final class Subprocess: Sendable {
    let pid: pid_t

    private init(pid: pid_t) { self.pid = pid }

    /// Starts `executable` (a path) with `arguments`. `environment` adds to (or replaces
    /// entries of) this process's environment. `output` redirects stdout and stderr to a file.
    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String] = [:], outputPath: String? = nil) throws -> Subprocess {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let outputPath {
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }

        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for entry in envp { free(entry) } }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            throw SubprocessError(message: "cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        return Subprocess(pid: pid)
    }

    /// The first executable called `name` on PATH (or `name` itself when it contains a `/`).
    static func which(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits for the child to exit, on a thread of its own (never blocking Swift's pool).
    /// Returns the exit code, or 128 + the signal that killed it.
    func waitForExit() async -> Int32 {
        let pid = pid
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                let code: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                continuation.resume(returning: code)
            }
        }
    }

    /// Runs `executable` to the end; returns its exit code.
    static func run(_ executable: String, _ arguments: [String], outputPath: String? = nil) async throws -> Int32 {
        try await spawn(executable, arguments, outputPath: outputPath).waitForExit()
    }
}

struct SubprocessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
