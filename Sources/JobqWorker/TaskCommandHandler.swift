import Foundation
import Jobq
import JobqCore

/// `jobq.exec`, the one handler jobq ships in the library, and only when explicitly enabled.
/// (The demo and test handlers live in the `JobqTestHandlers` module.)
extension HandlerRegistry {
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

