import ArgumentParser
import Jobq
import JobqCore

struct WaitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until a task or workflow has finished; the exit code is the outcome.",
        discussion: """
            Blocks (on Redis's event stream, without polling) until the task, or every task of \
            the workflow, is DONE, SKIPPED, FAILED or CANCELLED, then prints the outcome.

            Exit status: 0 when everything ended DONE or SKIPPED, 1 when something ended FAILED or \
            CANCELLED, 75 when --timeout passed first, 66 when there is no such task or workflow.

              jobq wait 01J0ABCD… && echo ok
              jobq wait nightly --timeout 30m
              id=$(jobq submit jobq.echo --payload '{"x":1}') && jobq wait "$id" && jobq result "$id"
            """
    )

    @Argument(help: ArgumentHelp("A task id or a workflow id.", valueName: "id|workflow"))
    var target: String

    @Option(name: .long, help: ArgumentHelp("Give up after this long (exit 75). Default: wait as long as it takes.", valueName: "duration"))
    var timeout: DurationArgument?

    @Flag(name: .long, help: "Treat the argument as a workflow id even if a task has the same id.")
    var workflow = false

    @Flag(name: [.short, .long], help: "Print nothing; only the exit status tells.")
    var quiet = false

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            let resolved = try await Target.resolve(target, client: client, workflowOnly: workflow)
            let snapshot = try await Waiting.until(finished: resolved, client: client, timeout: timeout?.duration)
            if !quiet { Waiting.printOutcome(snapshot, json: output.json) }
            return snapshot.outcome
        }
    }
}
