import Foundation
import JobqSpawn

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with JobqSpawn's `spawnProcess` (a clean signal mask and default
/// handlers, so it reacts to SIGINT/SIGTERM whatever this process blocks or ignores).
final class Subprocess: Sendable {
    let pid: pid_t

    private init(pid: pid_t) { self.pid = pid }

    /// Starts `executable` (a path) with `arguments`. `environment` adds to (or replaces
    /// entries of) this process's environment. `outputPath` redirects stdout and stderr to a
    /// file; otherwise the child shares this process's terminal.
    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String] = [:], outputPath: String? = nil) throws -> Subprocess {
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let output: SpawnIO = outputPath.map { .file($0) } ?? .inherit
        do {
            let options = SpawnOptions(environment: merged, stdin: outputPath == nil ? .inherit : .null, stdout: output)
            return Subprocess(pid: try spawnProcess(executable, arguments, options))
        } catch {
            throw SubprocessError(message: error.description)
        }
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
                continuation.resume(returning: exitCode(fromWaitStatus: status))
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
