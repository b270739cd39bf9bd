import Foundation
import Jobq
import JobqCore

/// Runs one command for a whole batch of tasks (a command handler with `batch:`): one process
/// start per batch instead of one per task, which dominates small command tasks (a Python
/// interpreter costs ~30 ms to start).
///
/// The protocol (docs/worker.md, "Batch handlers"):
///
/// - stdin: one JSON object per task and line, `{"id", "payload", "attempt", "max_attempts",
///   "worker_deaths", "queue", "handler", "workflow", "run", "task_key", "deadline_ms", "deps"}`,
///   then end of file.
/// - stdout: one JSON object per task and line, in any order, as soon as the task is done:
///   `{"id": "…", "ok": true, "result": <json>}`, `{"id": "…", "error": "why", "retry": false}`
///   (`retry` defaults to true; `"retry_after": "30s"`, `"reason": "word"` optional),
///   `{"id": "…", "skip": true}`, `{"id": "…", "snooze": "30s"}`. The first line for an id
///   counts; a line that does not parse, or names a task not in the batch, is logged and ignored.
/// - A task without an outcome line when the process exits (whatever its exit status) fails with
///   reason `batch_no_outcome` (a retried attempt); the message says how the process ended.
/// - stderr: the worker's log (debug level), the last lines in failure messages; not the tasks'
///   logs (a line cannot say which task it is about).
struct CommandBatchRunner: Sendable {
    let configuration: CommandHandlerConfiguration

    func handle(_ contexts: [HandlerContext]) async throws -> [String: BatchOutcome<[UInt8]>] {
        guard let first = contexts.first else { return [:] }
        var environment = CommandRunner.baseEnvironment(configuration)
        environment.merge(configuration.environment) { _, new in new }
        environment["JOBQ_HANDLER"] = first.handlerName
        environment["JOBQ_WORKER_ID"] = first.workerID
        environment["JOBQ_BATCH_SIZE"] = String(contexts.count)
        var input: [UInt8] = []
        for context in contexts { input += Self.line(for: context) }

        let arguments = configuration.command.map { $0.replacingOccurrences(of: "{handler}", with: first.handlerName) }
        let perTask = configuration.maxOutputBytes ?? (1 << 20)
        let limit = min(perTask.multipliedReportingOverflow(by: contexts.count).partialValue, 256 << 20)
        let invocation = CommandProcess.Invocation(
            executable: arguments[0], arguments: Array(arguments.dropFirst()), environment: environment,
            workingDirectory: configuration.workingDirectory, stdin: input, stdoutLimit: limit,
            killGrace: configuration.killGrace, timeout: configuration.timeout
        )
        let tail = StderrTail()
        let logger = first.workerLogger
        let result: CommandProcess.Result
        do {
            result = try await CommandProcess.run(invocation) { line in
                tail.add(line)
                logger.debug("batch command stderr", metadata: ["handler": .string(first.handlerName), "line": .string(line)])
            }
        } catch let error as CommandProcess.SpawnError {
            throw HandlerError.permanent(error.description, reason: "command_failed_to_start")
        }
        if result.cancelled { throw CancellationError() }

        let ids = Set(contexts.map(\.taskID))
        var outcomes: [String: BatchOutcome<[UInt8]>] = [:]
        var bad = 0
        for line in result.stdout.split(separator: 0x0A, omittingEmptySubsequences: true) {
            guard let (id, outcome) = Self.outcome(Array(line)), ids.contains(id) else {
                bad += 1
                continue
            }
            if outcomes[id] == nil { outcomes[id] = outcome }
        }
        if bad > 0 {
            logger.warning("batch command wrote lines that are not outcomes of its tasks; they were ignored", metadata: ["handler": .string(first.handlerName), "lines": .stringConvertible(bad)])
        }
        let program = arguments[0]
        let ending: String
        if result.timedOut {
            ending = "command \(program) exceeded its timeout of \(DurationText.format(configuration.timeout ?? .zero)) and was stopped"
        } else if result.stdoutTruncated {
            ending = "command \(program) wrote more than \(limit) bytes to stdout (the limit for this batch)"
        } else {
            switch result.termination {
            case .exited(0): ending = "command \(program) exited with status 0 without writing an outcome line for it"
            case .exited(let code): ending = "command \(program) exited with status \(code) before writing an outcome line for it"
            case .signaled(let signal): ending = "command \(program) was killed by signal \(signal) (\(CommandRunner.signalName(signal))) before writing an outcome line for it"
            }
        }
        for id in ids where outcomes[id] == nil {
            outcomes[id] = .failed(HandlerError.retry(ending + tail.suffix, reason: "batch_no_outcome"))
        }
        return outcomes
    }

    /// The stdin line of one task.
    static func line(for context: HandlerContext) -> [UInt8] {
        let left = context.deadline - ContinuousClock.now
        let milliseconds = max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
        typealias JSON = JobqCore.JSONValue
        var bytes = Array("{\"id\":\(JSON.quoted(context.taskID)),\"payload\":".utf8)
        bytes += context.payload.isEmpty ? Array("null".utf8) : context.payload.filter { $0 != 0x0A && $0 != 0x0D }
        let fields: [(String, JSON)] = [
            ("attempt", .int(context.attempt)), ("max_attempts", .int(context.maxAttempts)),
            ("worker_deaths", .int(context.workerDeaths)), ("queue", .string(context.queue)),
            ("handler", .string(context.handlerName)), ("workflow", .optional(context.workflow)),
            ("run", .optional(context.runID)), ("task_key", .string(context.taskKey)),
            ("deadline_ms", .int(milliseconds)),
        ]
        for (name, value) in fields {
            bytes += Array(",\"\(name)\":\(value.rendered())".utf8)
        }
        bytes += Array(",\"deps\":".utf8)
        bytes += CommandRunner.dependenciesJSON(context.prerequisites, run: context.runID)
        bytes += Array("}\n".utf8)
        return bytes
    }

    /// One stdout line as (task id, outcome); `nil` when it is not an outcome line.
    static func outcome(_ line: [UInt8]) -> (String, BatchOutcome<[UInt8]>)? {
        guard let value = try? JobqCore.JSONValue.parse(line), let id = value["id"]?.stringValue else { return nil }
        if value["ok"] == .bool(true) {
            return (id, .done(value["result"]?.bytes ?? Array("null".utf8)))
        }
        if value["skip"] == .bool(true) {
            return (id, .failed(HandlerError(kind: .skip, reason: "skipped", message: "the batch command skipped it", result: value["result"]?.bytes)))
        }
        if let text = value["snooze"]?.stringValue {
            return (id, .failed(HandlerError.snooze(for: DurationText.parse(text) ?? .zero, "the batch command asked to snooze for \(text)")))
        }
        guard let message = value["error"]?.stringValue else { return nil }
        let reason = value["reason"]?.stringValue ?? "error"
        if value["retry"] == .bool(false) {
            return (id, .failed(HandlerError.permanent(message, reason: reason)))
        }
        let after = value["retry_after"]?.stringValue.flatMap { DurationText.parse($0) }
        return (id, .failed(HandlerError.retry(message, after: after, reason: reason)))
    }
}
