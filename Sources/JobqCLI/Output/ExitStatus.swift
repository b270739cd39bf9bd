import ArgumentParser
import JobqCore

/// The exit codes of `jobq`, after BSD `sysexits.h`. `docs/cli.md` documents the same table.
///
/// Scripts can rely on them: they never change meaning.
enum ExitStatus: Int32, CaseIterable, Sendable {
    /// Success; for `wait` and `watch`: everything waited for ended DONE.
    case ok = 0
    /// `wait`/`watch`: a waited-for task or workflow ended FAILED or CANCELLED; `debrief`: it
    /// reports a FAILED or CANCELLED task; `doctor`: problems
    /// were found and not repaired.
    case taskFailed = 1
    /// EX_USAGE: bad command line or bad input (invalid id, JSON, workflow file, cycle, …).
    case usage = 64
    /// EX_DATAERR: the task exists but is in a state that does not allow the request
    /// (retry a DONE task, cancel a finished one, the result of a task that is not DONE).
    case invalidState = 65
    /// EX_NOINPUT: no such task, workflow or file.
    case notFound = 66
    /// EX_UNAVAILABLE: Redis is unreachable or refused the command (or graphviz is missing).
    case unavailable = 69
    /// EX_SOFTWARE: a bug or a corrupt record; please report it.
    case internalError = 70
    /// EX_CANTCREAT: an output file could not be written.
    case cannotCreate = 73
    /// EX_TEMPFAIL: `--timeout` passed before the task or workflow finished.
    case timeout = 75
    /// Interrupted by Ctrl-C (128 + SIGINT).
    case interrupted = 130
    /// stdout's reader closed the pipe (`jobq list | head -1`): 128 + SIGPIPE, what a shell
    /// reports for other commands; nothing is printed on stderr.
    case brokenPipe = 141

    var exitCode: ExitCode { ExitCode(rawValue) }

    /// One line for `--help` (at most 72 columns, so the help fits 80).
    var meaning: String {
        switch self {
        case .ok: "success (wait/watch: every task ended DONE)"
        case .taskFailed: "wait/watch/debrief: a task failed or was cancelled; doctor: problems"
        case .usage: "bad input: arguments, id, JSON, workflow file, cycle, size"
        case .invalidState: "the task's state forbids it (retry a DONE task, result of a failed one)"
        case .notFound: "no such task, workflow or file"
        case .unavailable: "Redis unreachable or refusing (or graphviz missing for svg/png)"
        case .internalError: "internal error or corrupt record (please report it)"
        case .cannotCreate: "an output file could not be written"
        case .timeout: "--timeout passed before the task or workflow finished"
        case .interrupted: "interrupted (Ctrl-C)"
        case .brokenPipe: "stdout's reader went away (jobq list | head -1); quietly"
        }
    }

    /// The exit status for an error code.
    init(for code: JobqError.Code) {
        switch code {
        case .notFound, .fileNotFound: self = .notFound
        case .invalidState, .staleToken, .prerequisiteFailed, .uniqueHeld: self = .invalidState
        case .timeout: self = .timeout
        case .redisUnavailable, .redisError, .redisOutOfMemory, .graphvizMissing, .unsafeRedis: self = .unavailable
        case .corruptRecord, .internalError: self = .internalError
        case .cannotWrite: self = .cannotCreate
        case .interrupted, .cancelled: self = .interrupted
        case .taskFailed: self = .taskFailed
        default: self = .usage
        }
    }

    /// The table as shown at the end of `jobq --help`.
    static var helpTable: String {
        allCases.map { status in
            let code = String(status.rawValue)
            return "  " + code + String(repeating: " ", count: max(1, 5 - code.count)) + status.meaning
        }.joined(separator: "\n")
    }
}

/// Error codes the CLI adds to the engine's (``JobqError/Code`` is open for extension);
/// `file_not_found` and `invalid_connection` are JobqCore's (the worker reports them too).
extension JobqError.Code {
    /// A workflow file that is not well-formed YAML/JSON or does not follow the format.
    static let invalidWorkflowFile = JobqError.Code(rawValue: "invalid_workflow_file")
    /// A retval reference to a task that is not a prerequisite.
    static let invalidReference = JobqError.Code(rawValue: "invalid_reference")
    /// An output file cannot be written.
    static let cannotWrite = JobqError.Code(rawValue: "cannot_write")
    /// `graph --format svg|png` without graphviz's `dot` on PATH.
    static let graphvizMissing = JobqError.Code(rawValue: "graphviz_missing")
    /// Ctrl-C.
    static let interrupted = JobqError.Code(rawValue: "interrupted")
    /// `wait`/`watch` ended with a FAILED or CANCELLED task (reported, not thrown).
    static let taskFailed = JobqError.Code(rawValue: "task_failed")
}
