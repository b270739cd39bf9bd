import ArgumentParser
import Jobq
import JobqCore

struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Stop workers from starting tasks of a queue (running ones finish).",
        discussion: """
            Submissions are still accepted; the tasks wait until `jobq resume QUEUE`. A queue no
            task has used is refused (a typo would pause nothing); --new pauses it ahead of its
            first task.

              jobq pause reports
              jobq pause --new nightly-exports   # before any task was submitted to it
              jobq queues                        # shows which queues are paused
            """
    )

    @Argument(help: ArgumentHelp("The queue.", valueName: "queue"))
    var queue: String

    @Flag(name: .customLong("new"), help: "Pause a queue that no task has used yet (without it, an unknown queue is refused: a typo would pause nothing).")
    var allowNew = false

    @OptionGroup var acting: ActorOption
    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            try await client.pause(queue: queue, allowNew: allowNew, actor: acting.name)
            if output.json {
                Console.out(JSONValue.object([("queue", .string(queue)), ("paused", .bool(true))]).rendered())
            } else {
                Console.out("queue \(queue): paused (resume with: jobq resume \(queue))")
            }
            return .ok
        }
    }
}
