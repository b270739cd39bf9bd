import ArgumentParser
import Jobq
import JobqCore

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Let workers start tasks of a paused queue again.",
        discussion: """
              jobq resume reports
            """
    )

    @Argument(help: ArgumentHelp("The queue.", valueName: "queue"))
    var queue: String

    @OptionGroup var acting: ActorOption
    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            try await client.resume(queue: queue, actor: acting.name)
            if output.json {
                Console.out(JSONValue.object([("queue", .string(queue)), ("paused", .bool(false))]).rendered())
            } else {
                Console.out("queue \(queue): resumed")
            }
            return .ok
        }
    }
}
