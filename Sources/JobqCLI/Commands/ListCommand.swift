import ArgumentParser
import Jobq
import JobqCore

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List tasks, filtered by state, queue or workflow.",
        discussion: """
            Tasks are grouped by state (PENDING, RUNNING, DONE, FAILED, CANCELLED), oldest \
            state change first within each state; a workflow's tasks come in submission order.

              jobq list
              jobq list --state failed --limit 20
              jobq list --queue reports --state pending
              jobq list --workflow nightly --json | jq -r '.tasks[].id'

            Finished tasks are listed until their retention (--keep at submission, 24h by \
            default) expires or `jobq purge` removes them.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Only tasks in this state: pending, running, done, skipped, failed or cancelled.", valueName: "state"))
    var state: TaskState?

    @Option(name: .long, help: ArgumentHelp("Only tasks of this queue.", valueName: "queue"))
    var queue: String?

    @Option(name: .long, help: ArgumentHelp("Only tasks of this workflow.", valueName: "workflow"))
    var workflow: String?

    @Option(name: .long, help: ArgumentHelp("At most this many tasks.", valueName: "n"))
    var limit: Int = 50

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func validate() throws {
        guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 100000") }
    }

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            if let queue { try Validation.check(name: queue, as: .queue) }
            if let workflow { try Validation.check(name: workflow, as: .workflow) }
            let tasks = try await client.list(state: state, queue: queue, workflow: workflow, limit: limit)
            if output.json {
                let counts = StateCounts(name: "", states: tasks.map(\.state))
                Console.out(JSONValue.object([
                    ("count", .int(tasks.count)),
                    ("summary", .string(counts.description)),
                    ("tasks", .array(tasks.map(TaskJSON.summary))),
                ]).rendered(pretty: Terminal.current.isTTY))
                return .ok
            }
            guard !tasks.isEmpty else {
                Console.out("no tasks" + (state.map { " in state \($0.rawValue)" } ?? "") + (queue.map { " on queue \($0)" } ?? "") + (workflow.map { " in workflow \($0)" } ?? ""))
                return .ok
            }
            let now = DurationText.nowMilliseconds
            var table = Table([
                .init(header: "ID", max: 26), .init(header: "STATE", max: 9), .init(header: "HANDLER", max: 18),
                .init(header: "QUEUE", max: 10), .init(header: "RUNS", max: 5, alignRight: true),
                .init(header: "AGE", max: 7, alignRight: true), .init(header: "TITLE", max: 30, flexible: true),
            ])
            for task in tasks {
                let age = task.created.map { DurationText.format(milliseconds: now - $0) } ?? "-"
                table.add([
                    .init(task.id), .init(task.state?.rawValue ?? "UNKNOWN", Terminal.color(of: task.state)), .init(task.handler),
                    .init(task.queue), .init("\(task.attempts)/\(task.maxAttempts)"), .init(age), .init(task.title),
                ])
            }
            table.render().forEach { Console.out($0) }
            if tasks.count == limit { Console.out(Terminal.current.paint("(first \(limit); raise --limit for more)", .dim)) }
            return .ok
        }
    }
}
