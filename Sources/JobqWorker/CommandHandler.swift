import Foundation
import Jobq
import JobqCore
import Synchronization

/// A handler that runs an external program: jobq's way to run handlers written in any language.
///
/// The child gets the task's payload on stdin and as environment variables; its stdout (JSON, or
/// text stored as a JSON string) becomes the result, its stderr lines the task's log, and its exit
/// status the outcome: 0 DONE, ``skipExitCode`` SKIPPED, one of ``finalExitCodes`` FAILED
/// without retry, anything else a failed attempt (retried per the task's backoff).
///
/// Environment of the child (besides ``environment``):
///
/// | variable | value |
/// |---|---|
/// | `JOBQ_TASK_ID`, `JOBQ_HANDLER`, `JOBQ_QUEUE`, `JOBQ_WORKFLOW` | the task's id, handler, queue, workflow (empty if none) |
/// | `JOBQ_RUN`, `JOBQ_TASK_KEY` | the run of a task of a run (empty if none) and its key within it (`RUN/KEY` is its id) |
/// | `JOBQ_ATTEMPT`, `JOBQ_MAX_ATTEMPTS` | this run's number (1-based) and the attempt budget |
/// | `JOBQ_WORKER_DEATHS` | earlier runs lost with their worker (not charged unless the task ran alone) |
/// | `JOBQ_WORKER_ID` | the worker running it |
/// | `JOBQ_DEADLINE_MS` | milliseconds left before the task times out |
/// | `JOBQ_PAYLOAD` | the payload JSON, when at most 32 KiB (always on stdin) |
/// | `JOBQ_DEPS_JSON` / `JOBQ_DEPS_FILE` | prerequisites' results as `{"id": result, …}` (a prerequisite of the same run by its key), inline when at most 32 KiB, else in a file |
/// | `JOBQ_CHECKPOINT_FILE` | a file holding the last checkpoint (JSON) an earlier attempt saved; unset when there is none |
/// | `JOBQ_SIGNALS_FILE` | a file holding the signals the task keeps, `{"name": payload, …}` (answers as `"ask-<12 hex of sha1(question)>": "choice"`); unset when none |
/// | `JOBQ_ANSWER` | the answer to the question most recently answered (`JOBQ_ASK`); unset when none |
/// | `JOBQ_CHILDREN_FILE` | a file holding the run spawned under the key `children` (`JOBQ_SPAWN`): `{"run", "state", "children": [{"key", "state", "result", "reason"}]}` in submission order; unset when none |
/// | `TRACEPARENT`, `TRACESTATE` | the task span's trace context (W3C, the OpenTelemetry convention for processes) when a tracer is bootstrapped; unset otherwise |
///
/// A stderr line `JOBQ_SNOOZE 30s` snoozes the task when the command ends; `JOBQ_CHECKPOINT {json}`
/// saves a checkpoint; `JOBQ_WAIT NAME [DURATION]` and `JOBQ_ASK {json}` wait for a signal or an
/// answer (``CommandDirectives``).
///
/// A stderr line `JOBQ_PROGRESS 42` reports 42 %; `JOBQ_PROGRESS {"group":["download"],"current":3,"total":10,"status":"…"}`
/// reports one progress group. Such lines are not logged.
public struct CommandHandlerConfiguration: Sendable, Hashable {
    /// The program and its arguments (no shell). `{task_id}`, `{task_key}`, `{run}`, `{attempt}`,
    /// `{max_attempts}`, `{queue}`, `{handler}` and `{workflow}` in an argument are replaced by
    /// the task's values.
    public var command: [String]
    /// Extra environment variables.
    public var environment: [String: String] = [:]
    /// Pass the worker's own environment (minus `JOBQ_REDIS_*`) instead of a minimal one
    /// (`PATH`, `HOME`, `LANG`, `LC_ALL`, `TZ`, `TMPDIR`).
    public var inheritEnvironment = false
    public var workingDirectory: String?
    /// A time limit for the command, on top of the task's own timeout (the shorter wins).
    public var timeout: Duration?
    /// The exit status meaning "nothing to do" (the task ends SKIPPED).
    public var skipExitCode: Int32?
    /// Exit statuses meaning "retrying cannot help" (FAILED at once).
    public var finalExitCodes: Set<Int32> = []
    /// From SIGTERM to SIGKILL when the command must stop.
    public var killGrace: Duration = .seconds(5)
    /// Most stdout bytes accepted as the result; `nil` means the installation's payload limit.
    /// For a batch: per task of the batch (at most 256 MiB for the batch).
    public var maxOutputBytes: Int?
    /// Take tasks in batches: one process per batch, the tasks as JSON lines on stdin, one
    /// outcome line per task on stdout (``CommandBatchRunner``; docs/worker.md, "Batch handlers").
    public var batch: BatchSettings?

    public init(command: [String]) {
        self.command = command
    }

    /// Throws `invalid_option` describing the first problem.
    public func validate(name: String) throws(JobqError) {
        guard let program = command.first, !program.isEmpty else {
            throw JobqError(.invalidOption, "command handler \(name): `command` must list the program and its arguments, e.g. [\"/usr/bin/convert\", \"-\", \"out.png\"]")
        }
        if let workingDirectory, !workingDirectory.hasPrefix("/") {
            throw JobqError(.invalidOption, "command handler \(name): working_dir must be an absolute path; got \(workingDirectory)")
        }
        if let timeout, timeout <= .zero {
            throw JobqError(.invalidOption, "command handler \(name): timeout must be positive")
        }
        guard killGrace >= .zero, killGrace <= .seconds(3600) else {
            throw JobqError(.invalidOption, "command handler \(name): kill_grace must be between 0s and 1h")
        }
        if let skipExitCode, !(1...255).contains(skipExitCode) {
            throw JobqError(.invalidOption, "command handler \(name): skip_exit_code must be between 1 and 255")
        }
        if let bad = finalExitCodes.first(where: { !(1...255).contains($0) || $0 == skipExitCode }) {
            throw JobqError(.invalidOption, "command handler \(name): final exit code \(bad) must be between 1 and 255 and differ from skip_exit_code")
        }
        for key in environment.keys where key.isEmpty || key.contains("=") || key.utf8.contains(0) {
            throw JobqError(.invalidOption, "command handler \(name): invalid environment variable name \"\(key)\"")
        }
        if let batch {
            try batch.validate(handler: name)
            let perTask = ["{task_id}", "{task_key}", "{run}", "{attempt}", "{max_attempts}", "{queue}", "{workflow}"]
            if let placeholder = perTask.first(where: { placeholder in command.contains { $0.contains(placeholder) } }) {
                throw JobqError(.invalidOption, "command handler \(name): \(placeholder) in `command` names one task, but a batch process serves many; batch commands read each task's values from their stdin line", subject: name)
            }
            if skipExitCode != nil || !finalExitCodes.isEmpty {
                throw JobqError(.invalidOption, "command handler \(name): skip_exit_code and final_exit_codes do not apply to a batch (its outcomes are per task, on stdout: {\"id\": …, \"skip\": true} or {\"id\": …, \"error\": …, \"retry\": false})", subject: name)
            }
        }
    }
}

extension HandlerRegistry {
    /// Registers a command handler under `name`.
    /// With ``CommandHandlerConfiguration/batch`` set, one process serves a batch of tasks.
    public mutating func register(_ name: String, command configuration: CommandHandlerConfiguration) {
        if let batch = configuration.batch {
            register(batch: name, settings: batch, raw: CommandBatchRunner(configuration: configuration).handle)
        } else {
            register(name, raw: CommandRunner(configuration: configuration).handle)
        }
    }
}

/// Runs one command for one task.
struct CommandRunner: Sendable {
    let configuration: CommandHandlerConfiguration
    /// Values this small go into environment variables; larger ones only on stdin / in a file.
    static let inlineLimit = 32 * 1024

    func handle(_ payload: [UInt8], _ context: HandlerContext) async throws -> [UInt8] {
        var environment = Self.baseEnvironment(configuration)
        environment.merge(configuration.environment) { _, new in new }
        environment["JOBQ_TASK_ID"] = context.taskID
        environment["JOBQ_HANDLER"] = context.handlerName
        environment["JOBQ_QUEUE"] = context.queue
        environment["JOBQ_WORKFLOW"] = context.workflow ?? ""
        environment["JOBQ_RUN"] = context.runID ?? ""
        environment["JOBQ_TASK_KEY"] = context.taskKey
        environment["JOBQ_ATTEMPT"] = String(context.attempt)
        environment["JOBQ_WORKER_DEATHS"] = String(context.workerDeaths)
        environment["JOBQ_MAX_ATTEMPTS"] = String(context.maxAttempts)
        environment["JOBQ_WORKER_ID"] = context.workerID
        addTraceContext(context, to: &environment)
        let left = context.deadline - ContinuousClock.now
        environment["JOBQ_DEADLINE_MS"] = String(max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
        if payload.count <= Self.inlineLimit, !payload.contains(0) {
            environment["JOBQ_PAYLOAD"] = String(decoding: payload, as: UTF8.self)
        }
        var depsFile: String?
        defer { if let depsFile { unlink(depsFile) } }
        let deps = Self.dependenciesJSON(context.prerequisites, run: context.runID)
        if deps.count <= Self.inlineLimit {
            environment["JOBQ_DEPS_JSON"] = String(decoding: deps, as: UTF8.self)
        } else {
            depsFile = try Self.writeTemporaryFile(deps, prefix: "jobq-deps-" + String(context.taskID.replacingOccurrences(of: "/", with: "_").prefix(100)))
            environment["JOBQ_DEPS_FILE"] = depsFile
        }

        var checkpointFile: String?
        defer { if let checkpointFile { unlink(checkpointFile) } }
        if let checkpoint = context.lastCheckpoint {
            checkpointFile = try Self.writeTemporaryFile(checkpoint, prefix: "jobq-checkpoint-" + String(context.taskID.replacingOccurrences(of: "/", with: "_").prefix(100)))
            environment["JOBQ_CHECKPOINT_FILE"] = checkpointFile
        }

        var signalsFile: String?
        defer { if let signalsFile { unlink(signalsFile) } }
        if let signals = context.run.claimed.signals {
            signalsFile = try Self.writeTemporaryFile(signals, prefix: "jobq-signals-" + String(context.taskID.replacingOccurrences(of: "/", with: "_").prefix(100)))
            environment["JOBQ_SIGNALS_FILE"] = signalsFile
        }
        if let answer = context.latestAnswer { environment["JOBQ_ANSWER"] = answer }
        var childrenFile: String?
        defer { if let childrenFile { unlink(childrenFile) } }
        if let children = try await CommandSpawn.childrenJSON(context) {
            childrenFile = try Self.writeTemporaryFile(children, prefix: "jobq-children-" + String(context.taskID.replacingOccurrences(of: "/", with: "_").prefix(100)))
            environment["JOBQ_CHILDREN_FILE"] = childrenFile
        }

        let arguments = configuration.command.map { expand($0, context) }
        let limit = configuration.maxOutputBytes ?? (1 << 20)
        let invocation = CommandProcess.Invocation(
            executable: arguments[0], arguments: Array(arguments.dropFirst()), environment: environment,
            workingDirectory: configuration.workingDirectory, stdin: payload, stdoutLimit: limit,
            killGrace: configuration.killGrace, timeout: configuration.timeout
        )
        let tail = StderrTail()
        let directives = CommandDirectives(context: context)
        let result: CommandProcess.Result
        do {
            result = try await CommandProcess.run(invocation) { line in
                if line.hasPrefix("JOBQ_PROGRESS ") {
                    Self.reportProgress(String(line.dropFirst("JOBQ_PROGRESS ".count)), context)
                    return
                }
                if directives.handle(line) { return }
                tail.add(line)
                context.log(line)
            }
        } catch let error as CommandProcess.SpawnError {
            throw HandlerError.permanent(error.description, reason: "command_failed_to_start")
        }
        // checkpoints are saved before the outcome is; a snooze line decides it, whatever the exit
        let directive = await directives.finish()
        if result.cancelled { throw CancellationError() }
        let program = arguments[0]
        if result.timedOut {
            throw HandlerError.retry("command \(program) exceeded its timeout of \(DurationText.format(configuration.timeout ?? .zero)) and was stopped\(tail.suffix)", reason: "timeout")
        }
        if let directive { throw directive }
        switch result.termination {
        case .signaled(let signal):
            throw HandlerError.retry("command \(program) was killed by signal \(signal) (\(Self.signalName(signal)))\(tail.suffix)", reason: "signal")
        case .exited(0):
            guard !result.stdoutTruncated else {
                throw HandlerError.permanent("command \(program) wrote more than \(limit) bytes to stdout; the result limit is \(limit) — store large output elsewhere and print a reference", reason: "result_too_large")
            }
            return Self.resultJSON(result.stdout)
        case .exited(let code) where code == configuration.skipExitCode:
            throw HandlerError(kind: .skip, reason: "skipped", message: "command exited with the skip code \(code)", result: Self.resultJSON(result.stdout))
        case .exited(let code) where configuration.finalExitCodes.contains(code):
            throw HandlerError.permanent("command \(program) exited with status \(code) (configured as final: no retry)\(tail.suffix)", reason: "exit_status")
        case .exited(let code):
            throw HandlerError.retry("command \(program) exited with status \(code)\(tail.suffix)", reason: "exit_status")
        }
    }

    /// The child's environment before the task's variables: the worker's own (minus
    /// `JOBQ_REDIS_*`) with `inherit_env`, else a minimal one.
    static func baseEnvironment(_ configuration: CommandHandlerConfiguration) -> [String: String] {
        let own = ProcessInfo.processInfo.environment
        if configuration.inheritEnvironment {
            return own.filter { !$0.key.hasPrefix("JOBQ_REDIS_") }
        }
        var environment: [String: String] = ["PATH": own["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"]
        for key in ["HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"] { environment[key] = own[key] }
        return environment
    }

    private func expand(_ argument: String, _ context: HandlerContext) -> String {
        guard argument.contains("{") else { return argument }
        return argument
            .replacingOccurrences(of: "{task_id}", with: context.taskID)
            .replacingOccurrences(of: "{task_key}", with: context.taskKey)
            .replacingOccurrences(of: "{run}", with: context.runID ?? "")
            .replacingOccurrences(of: "{attempt}", with: String(context.attempt))
            .replacingOccurrences(of: "{max_attempts}", with: String(context.maxAttempts))
            .replacingOccurrences(of: "{queue}", with: context.queue)
            .replacingOccurrences(of: "{handler}", with: context.handlerName)
            .replacingOccurrences(of: "{workflow}", with: context.workflow ?? "")
    }

    /// `{"id": result-or-null, …}` built from the raw results (already JSON); a prerequisite of
    /// the same `run` is named by its key, so a script reads `.fetch` in every run.
    static func dependenciesJSON(_ prerequisites: [PrerequisiteOutcome], run: String? = nil) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        let named = prerequisites.map { (name: run != nil && RunScope.run(of: $0.id) == run ? RunScope.key(of: $0.id) : $0.id, outcome: $0) }
        for (index, (name, prerequisite)) in named.sorted(by: { $0.name < $1.name }).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array("\"\(name)\":".utf8)  // ids are within the name grammar (and '/'): no escaping needed
            out += prerequisite.result.isEmpty ? Array("null".utf8) : prerequisite.result
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Stdout as the result: JSON as it is, anything else as a JSON string, nothing as `null`.
    static func resultJSON(_ stdout: [UInt8]) -> [UInt8] {
        var end = stdout.endIndex
        while end > stdout.startIndex, [0x0A, 0x0D, 0x20, 0x09].contains(stdout[end - 1]) { end -= 1 }
        let trimmed = Array(stdout[..<end])
        if trimmed.isEmpty { return Array("null".utf8) }
        if (try? JSONSerialization.jsonObject(with: Data(trimmed), options: [.fragmentsAllowed])) != nil {
            return trimmed
        }
        let text = String(decoding: trimmed, as: UTF8.self)
        return (try? PayloadCoding.encode(text)) ?? Array("null".utf8)
    }

    static func reportProgress(_ text: String, _ context: HandlerContext) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let percent = Double(trimmed.hasSuffix("%") ? String(trimmed.dropLast()) : trimmed) {
            context.progress(percent: percent)
        } else if let entry = try? PayloadCoding.decode(ProgressLine.self, from: Array(trimmed.utf8)) {
            context.progress(entry.group ?? [], current: entry.current, total: entry.total, status: entry.status ?? "")
        } else {
            context.log("JOBQ_PROGRESS " + text)
        }
    }

    private struct ProgressLine: Decodable {
        var group: [String]?
        var current: Int
        var total: Int
        var status: String?
    }

    static func writeTemporaryFile(_ bytes: [UInt8], prefix: String) throws -> String {
        var template = Array((NSTemporaryDirectory() + "/" + prefix + "-XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else {
            throw HandlerError.retry("cannot create a temporary file for the prerequisites' results: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            guard count > 0 else {
                throw HandlerError.retry("cannot write the prerequisites' results to a temporary file: \(String(cString: strerror(errno)))")
            }
            offset += count
        }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGILL: "SIGILL"
        case SIGFPE: "SIGFPE"
        case SIGPIPE: "SIGPIPE"
        default: "signal \(signal)"
        }
    }
}

/// The last few stderr lines, for failure messages.
final class StderrTail: Sendable {
    private let lines = Mutex<[String]>([])

    func add(_ line: String) {
        lines.withLock { lines in
            lines.append(String(line.prefix(300)))
            if lines.count > 5 { lines.removeFirst(lines.count - 5) }
        }
    }

    /// `"; stderr: …"`, or empty.
    var suffix: String {
        let lines = lines.withLock { $0 }
        return lines.isEmpty ? "" : "; stderr: " + lines.joined(separator: " | ")
    }
}
