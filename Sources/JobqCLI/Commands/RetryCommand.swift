import ArgumentParser
import Jobq
import JobqCore

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Re-open a FAILED or CANCELLED task, and the dependents it took down.",
        discussion: """
            The task gets a fresh attempt budget and runs again; tasks that were cancelled \
            because it failed (reason dependency_failed) are re-opened with it, transitively \
            (cs.taskqueue's "repair and retry").

              jobq retry 01J0ABCD…
              jobq retry flaky-step --json

            Exit status 65 when the task is not FAILED or CANCELLED, or when one of its own \
            prerequisites is still failed (retry that one first); 66 when there is no such task.
            """
    )

    @Argument(help: ArgumentHelp("The task id.", valueName: "id"))
    var id: String

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            let reopened = try await client.retry(id)
            if output.json {
                Console.out(JSONValue.object([("id", .string(id)), ("reopened", .array(reopened.map { .string($0) }))]).rendered())
            } else {
                let others = reopened.dropFirst()
                Console.out("\(id): re-opened" + (others.isEmpty ? "" : ", with \(others.count) dependent(s): " + others.joined(separator: ", ")))
            }
            return .ok
        }
    }
}
