import ArgumentParser
import Jobq
import JobqCore

/// Runs a command body: reports errors on stderr (text, or JSON with `--json`) with their stable
/// code, closes the Redis client, and turns the outcome into the documented exit status.
enum CommandRunner {
    /// Runs `body` with a client; the body returns the exit status (usually `.ok`).
    static func run(
        _ connection: ConnectionOptions, json: Bool,
        _ body: (JobqClient) async throws -> ExitStatus
    ) async throws {
        let status: ExitStatus
        do {
            let client = try connection.client()
            do {
                status = try await body(client)
                await client.close()
            } catch {
                await client.close()
                throw error
            }
        } catch {
            status = report(error, json: json, connection: connection)
        }
        if status != .ok { throw status.exitCode }
    }

    /// Runs `body` without Redis.
    static func runOffline(json: Bool, _ body: () async throws -> ExitStatus) async throws {
        let status: ExitStatus
        do {
            status = try await body()
        } catch let exit as ExitCode {
            throw exit  // a child's exit status (jobq dev -- COMMAND), passed on as is
        } catch {
            status = report(error, json: json)
        }
        if status != .ok { throw status.exitCode }
    }

    /// Prints `error` to stderr and returns its exit status.
    static func report(_ error: any Error, json: Bool, connection: ConnectionOptions? = nil) -> ExitStatus {
        if let exit = error as? ExitCode { return ExitStatus(rawValue: exit.rawValue) ?? .internalError }
        let jobqError = hinted(JobqError(translating: error, doing: "jobq"), connection: connection)
        let status = ExitStatus(for: jobqError.code)
        if json {
            var fields: [(String, JSONValue)] = [
                ("code", .string(jobqError.code.rawValue)),
                ("message", .string(jobqError.message)),
            ]
            if let subject = jobqError.subject { fields.append(("subject", .string(subject))) }
            fields.append(("exit_code", .int(status.rawValue)))
            Console.err(JSONValue.object([("error", .object(fields))]).rendered())
        } else {
            let painted = Terminal.stderrIsTTY && Environment.value("NO_COLOR") == nil
                ? "\u{1B}[31merror:\u{1B}[0m" : "error:"
            Console.err("jobq: \(painted) \(jobqError.message) [\(jobqError.code.rawValue)]")
        }
        return status
    }

    /// Adds what to do to errors whose engine message cannot know the CLI's settings (which
    /// one gave, or would give, the password): ``JobqError/explainingCredentials(passwordSource:urlSource:)``.
    static func hinted(_ error: JobqError, connection: ConnectionOptions?) -> JobqError {
        error.explainingCredentials(
            passwordSource: connection?.passwordSource,
            urlSource: connection?.urlSource ?? "--redis / JOBQ_REDIS_URL"
        )
    }
}
