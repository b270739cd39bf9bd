import Foundation
import JobqWorker

/// The test handlers' journal (`JOBQ_TEST_JOURNAL=/path`): one line when a run starts and one
/// when it ends, written by any number of worker processes into one file.
///
/// ```
/// S <task> <attempt> <pid> <unix-ms>
/// E <task> <attempt> <pid> <unix-ms> <ok|error|cancelled|snoozed|waiting>
/// ```
/// `snoozed` and `waiting`: the run ended by a snooze or a wait for a signal (it runs again).
/// Each line is one `write(2)` on an `O_APPEND` descriptor, so lines from different processes
/// never interleave. A run that dies with its process (SIGKILL, `jobq.crash`) has no end line.
/// Off (no file, no cost) when the variable is unset.
enum TestJournal {
    static let descriptor: Int32 = {
        guard let path = ProcessInfo.processInfo.environment["JOBQ_TEST_JOURNAL"], !path.isEmpty else { return -1 }
        return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    }()

    static func run<T>(_ context: HandlerContext, _ body: () async throws -> T) async throws -> T {
        guard descriptor >= 0 else { return try await body() }
        let prefix = "\(context.taskID) \(context.attempt) \(getpid())"
        append("S \(prefix) \(now())\n")
        do {
            let value = try await body()
            append("E \(prefix) \(now()) ok\n")
            return value
        } catch {
            let outcome = switch (error as? HandlerError)?.kind {
            case .snooze?: "snoozed"
            case .wait?: "waiting"
            default: error is CancellationError || Task.isCancelled ? "cancelled" : "error"
            }
            append("E \(prefix) \(now()) \(outcome)\n")
            throw error
        }
    }

    private static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    private static func append(_ line: String) {
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}
