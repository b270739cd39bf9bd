import ArgumentParser
import Jobq
import JobqCore

struct RerunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerun",
        abstract: "Start a new run of the same definition and inputs as a run.",
        discussion: """
            The new run has the same tasks, payloads, dependencies and settings, read back \
            from the old run's task records; the old run is left as it is. Prints the new \
            run's id.

              jobq rerun nightly-01J…
              jobq rerun nightly-01J… --run nightly-again --json

            Exit status 66 when there is no such run (or its tasks' retention expired).
            """
    )

    @Argument(help: ArgumentHelp("The run to copy.", valueName: "run"))
    var source: String

    @Option(name: [.customLong("run"), .customLong("as")], help: ArgumentHelp("The new run's id (default: generated).", valueName: "id"))
    var newID: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            try Validation.check(name: source, as: .run)
            if let newID { try Validation.check(name: newID, as: .run) }
            let started: WorkflowRun
            do {
                started = try await client.rerun(source, as: newID)
            } catch let error as JobqError {
                if let newID, let taken = error.runExists(newID) { throw taken }
                throw error
            }
            if output.json {
                Console.out(JSONValue.object([("run", .string(started.id)), ("from", .string(source)), ("tasks", .int(started.submitted.count))]).rendered())
            } else {
                Console.out(started.id)
                if Terminal.stderrIsTTY { Console.err("started run \(started.id) from \(source): \(started.submitted.count) task(s); follow it with: jobq watch \(started.id)") }
            }
            return .ok
        }
    }
}
