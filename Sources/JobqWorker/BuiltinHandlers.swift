import Foundation
import Jobq
import JobqCore

/// Handlers jobq ships, each only when explicitly enabled.
extension HandlerRegistry {
    /// Test and demo handlers (`jobq-worker --enable-test-handlers`), for trying jobq out and for
    /// fault tests. Never enable them on a production fleet: `jobq.crash` kills the worker.
    ///
    /// | name | payload | does |
    /// |---|---|---|
    /// | `jobq.noop` | anything | nothing; result `null` |
    /// | `jobq.echo` | anything | result = payload |
    /// | `jobq.sleep` | `{"seconds": 1.5}` | sleeps (cancellable); result `{"slept": 1.5}` |
    /// | `jobq.fail` | `{"times": 2, "final": false}` | fails attempts 1…times, then succeeds; `final` fails permanently instead |
    /// | `jobq.crash` | `{"exit_code": 3}` (optional) | kills the worker process (SIGKILL, or exit with the code) |
    /// | `jobq.progress` | `{"steps": 5, "interval_ms": 100}` | reports progress (overall and per step) and logs each step |
    ///
    /// With `JOBQ_TEST_JOURNAL=/path` in the environment, every run of these handlers appends a
    /// start line and an end line to that file (see ``TestJournal``): the independent record the
    /// fault tests check jobq against.
    public mutating func registerTestHandlers() {
        register("jobq.noop", raw: { _, context in
            try await TestJournal.run(context) { Array("null".utf8) }
        })
        register("jobq.echo", raw: { payload, context in
            try await TestJournal.run(context) { payload }
        })
        register("jobq.sleep") { (input: SleepInput, context: HandlerContext) async throws -> SleepInput in
            try await TestJournal.run(context) {
                guard input.seconds.isFinite, input.seconds >= 0 else {
                    throw HandlerError.permanent("seconds must be a non-negative number", reason: "bad_payload")
                }
                try await Task.sleep(for: .milliseconds(Int64(input.seconds * 1000)))
                return SleepInput(slept: input.seconds)
            }
        }
        register("jobq.fail") { (input: FailInput, context: HandlerContext) async throws -> FailOutput in
            try await TestJournal.run(context) {
                if input.final == true {
                    throw HandlerError.permanent("jobq.fail: failing permanently as asked", reason: "test_failure")
                }
                if context.attempt <= (input.times ?? 1) {
                    throw HandlerError.retry("jobq.fail: attempt \(context.attempt) fails as asked (times=\(input.times ?? 1))", after: input.delayMilliseconds.map { .milliseconds($0) }, reason: "test_failure")
                }
                return FailOutput(attempt: context.attempt)
            }
        }
        register("jobq.crash", raw: { payload, context in
            try await TestJournal.run(context) {
                let input = try? PayloadCoding.decode(CrashInput.self, from: payload)
                context.logger.critical("jobq.crash: killing this worker process as asked")
                if let code = input?.exitCode {
                    exit(code)
                }
                kill(getpid(), SIGKILL)
                return Array("null".utf8)
            }
        })
        register("jobq.progress") { (input: ProgressInput, context: HandlerContext) async throws -> ProgressInput in
            try await TestJournal.run(context) {
                let steps = max(0, min(input.steps ?? 5, 10_000))
                for step in 1...max(steps, 1) where steps > 0 {
                    try Task.checkCancellation()
                    context.progress(["steps"], current: step, total: steps, status: "step \(step) of \(steps)")
                    context.progress(percent: Double(step) * 100 / Double(steps), status: "working")
                    context.logger.info("jobq.progress: step \(step) of \(steps)")
                    if let interval = input.intervalMilliseconds, interval > 0 {
                        try await Task.sleep(for: .milliseconds(interval))
                    }
                }
                return ProgressInput(steps: steps, intervalMilliseconds: input.intervalMilliseconds)
            }
        }
    }

    /// `jobq.exec` (`jobq-worker --allow-task-commands`): runs the command the task carries.
    ///
    /// Anyone who can write to Redis can then run any program as the worker's user on every
    /// worker serving the queue — enable it only on queues and networks you trust.
    /// Payload: `{"command": ["prog", "arg"], "env": {"K": "v"}, "working_dir": "/abs", "input": <JSON for stdin>, "timeout_ms": 5000}`.
    public mutating func registerTaskCommandHandler() {
        register("jobq.exec", raw: { payload, context in
            let request: ExecInput
            do throws(JobqError) {
                request = try PayloadCoding.decode(ExecInput.self, from: payload)
            } catch {
                throw PayloadDecodingFailure(message: "jobq.exec payload must be {\"command\": [...], \"env\": {...}, \"working_dir\": \"/...\", \"input\": …}: \(error.message)")
            }
            var configuration = CommandHandlerConfiguration(command: request.command)
            configuration.environment = request.env ?? [:]
            configuration.workingDirectory = request.workingDirectory
            configuration.timeout = request.timeoutMilliseconds.map { .milliseconds($0) }
            do throws(JobqError) {
                try configuration.validate(name: "jobq.exec")
            } catch {
                throw HandlerError.permanent(error.message, reason: "bad_payload")
            }
            let input = request.input.map { (try? PayloadCoding.encode($0)) ?? [] } ?? []
            return try await CommandRunner(configuration: configuration).handle(input, context)
        })
    }
}

struct SleepInput: Codable, Sendable {
    var seconds: Double = 0
    var slept: Double?

    init(slept: Double) {
        self.slept = slept
    }

    private enum CodingKeys: String, CodingKey {
        case seconds, slept
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seconds = try container.decode(Double.self, forKey: .seconds)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(slept ?? seconds, forKey: .slept)
    }
}

struct FailInput: Decodable, Sendable {
    var times: Int?
    var final: Bool?
    var delayMilliseconds: Int64?

    private enum CodingKeys: String, CodingKey {
        case times, final
        case delayMilliseconds = "delay_ms"
    }
}

struct FailOutput: Encodable, Sendable {
    var attempt: Int
}

struct CrashInput: Decodable, Sendable {
    var exitCode: Int32?

    private enum CodingKeys: String, CodingKey {
        case exitCode = "exit_code"
    }
}

struct ProgressInput: Codable, Sendable {
    var steps: Int?
    var intervalMilliseconds: Int64?

    private enum CodingKeys: String, CodingKey {
        case steps
        case intervalMilliseconds = "interval_ms"
    }
}

struct ExecInput: Decodable, Sendable {
    var command: [String]
    var env: [String: String]?
    var workingDirectory: String?
    var input: JSONValue?
    var timeoutMilliseconds: Int64?

    private enum CodingKeys: String, CodingKey {
        case command, env, input
        case workingDirectory = "working_dir"
        case timeoutMilliseconds = "timeout_ms"
    }
}

/// Any JSON value, kept as it came.
indirect enum JSONValue: Codable, Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// The test handlers' journal (`JOBQ_TEST_JOURNAL=/path`): one line when a run starts and one
/// when it ends, written by any number of worker processes into one file.
///
/// ```
/// S <task> <attempt> <pid> <unix-ms>
/// E <task> <attempt> <pid> <unix-ms> <ok|error|cancelled>
/// ```
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
            let outcome = error is CancellationError || Task.isCancelled ? "cancelled" : "error"
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
