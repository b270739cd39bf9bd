import ArgumentParser
import Jobq
import JobqCore

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Re-open a FAILED or CANCELLED task and the dependents it took down, or every one of a run.",
        discussion: """
            The task gets a fresh attempt budget and runs again; tasks that were cancelled \
            because it failed (reason dependency_failed) are re-opened with it, transitively \
            (cs.taskqueue's "repair and retry").

              jobq retry 01J0ABCD…
              jobq retry nightly-01J…/load --json
              jobq retry nightly-01J…          # every FAILED/CANCELLED task of the run

            For a run: each FAILED task, and each task cancelled for a reason of its own (not \
            because a prerequisite failed), is retried in submission order; the run is RUNNING \
            again. Each retry is atomic; the run's retry is a sequence of them.

            Exit status 65 when the task is not FAILED or CANCELLED, or when one of its own \
            prerequisites is still failed (retry that one first); 66 when there is no such task.
            """
    )

    @Argument(help: ArgumentHelp("A task id (ID or RUN/TASK), or a run id.", valueName: "id|run"))
    var id: String

    @OptionGroup var acting: ActorOption
    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            if case .workflow(let run) = try await Target.resolve(id, client: client) {
                let reopened = try await client.retry(run: run, actor: acting.name)
                if output.json {
                    Console.out(JSONValue.object([("run", .string(run)), ("reopened", .array(reopened.map { .string($0) }))]).rendered())
                } else if reopened.isEmpty {
                    Console.out("run \(run): nothing to retry (no task FAILED or CANCELLED)")
                } else {
                    Console.out("run \(run): \(reopened.count) task(s) re-opened: " + reopened.map(RunScope.key(of:)).joined(separator: ", "))
                }
                return .ok
            }
            let reopened = try await client.retry(id, actor: acting.name)
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
