import ArgumentParser
import Jobq
import JobqCore

struct RerunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerun",
        abstract: "Start a new run of the same definition and inputs as a run (or, with --outdated, re-run its outdated tasks in place).",
        discussion: """
            The new run has the same tasks, payloads, dependencies and settings, read back \
            from the old run's task records; the old run is left as it is. Prints the new \
            run's id.

              jobq rerun nightly-01J…
              jobq rerun nightly-01J… --run nightly-again --json

            With --outdated, no new run: the run's OUTDATED tasks (DONE before one of their \
            prerequisites ended again, e.g. after `jobq retry` of an upstream task) and every \
            task of the run that depends on them are re-opened in place; nothing else runs \
            again. The run must have ended; it is RUNNING again. Prints the re-opened tasks.

              jobq rerun nightly-01J… --outdated

            Exit status 66 when there is no such run (or its tasks' retention expired), 65 \
            with --outdated when the run has not ended.
            """
    )

    @Argument(help: ArgumentHelp("The run to copy.", valueName: "run"))
    var source: String

    @Option(name: [.customLong("run"), .customLong("as")], help: ArgumentHelp("The new run's id (default: generated).", valueName: "id"))
    var newID: String?

    @Flag(help: "Re-run, in place, only the outdated tasks and what depends on them.")
    var outdated = false

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            try Validation.check(name: source, as: .run)
            if let newID { try Validation.check(name: newID, as: .run) }
            if outdated {
                if newID != nil { throw JobqError(.invalidOption, "--outdated re-runs tasks in place; it takes no --run id") }
                let reopened = try await client.rerunOutdated(run: source)
                if output.json {
                    Console.out(JSONValue.object([("run", .string(source)), ("reopened", .array(reopened.map { .string($0) }))]).rendered())
                } else {
                    Console.out(reopened.isEmpty ? "run \(source): nothing is outdated" : "run \(source): \(reopened.count) task(s) re-opened: " + reopened.map(RunScope.key(of:)).joined(separator: ", "))
                }
                return .ok
            }
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
