import ArgumentParser
import Jobq
import JobqCore

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a task's log lines (what its handler logged); -f follows them.",
        discussion: """
            Each task keeps its newest \(LeaseStore.logLinesKept) log lines, for as long as the \
            task itself is kept.

              jobq logs 01J0ABCD…
              jobq logs 01J0ABCD… -f          # until the task has finished
              jobq logs 01J0ABCD… --tail 20

            With -f, new lines are printed as they arrive and the command ends when the task \
            has ended (exit 0 whatever its outcome; use `jobq wait` for that).
            """
    )

    @Argument(help: ArgumentHelp("The task id.", valueName: "id"))
    var id: String

    @Flag(name: [.short, .long], help: "Keep printing new lines until the task has ended.")
    var follow = false

    @Option(name: .long, help: ArgumentHelp("Only the last N lines (then follow, with -f).", valueName: "n"))
    var tail: Int?

    @Option(name: .long, help: ArgumentHelp("With -f: how often to look for new lines while the task runs (default: 1s).", valueName: "duration"))
    var interval: DurationArgument?

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func validate() throws {
        if let tail, tail < 0 { throw ValidationError("--tail must be 0 or more") }
    }

    func run() async throws {
        let json = output.json
        try await CommandRunner.run(connection, json: json) { client in
            var info = try await client.status(id)
            var lines = try await client.logs(of: id)
            var printed = 0
            if let tail { printed = max(0, lines.count - tail) }
            func emit(_ lines: [String], from start: Int) {
                for (offset, line) in lines[start...].enumerated() {
                    if json {
                        Console.out(JSONValue.object([("id", .string(id)), ("n", .int(start + offset)), ("text", .string(line))]).rendered())
                    } else {
                        Console.out(line)
                    }
                }
            }
            guard follow else {
                if json && !follow {
                    Console.out(JSONValue.object([
                        ("id", .string(id)), ("state", .optional(info.state?.rawValue)),
                        ("lines", .array(lines[printed...].map { .string($0) })),
                    ]).rendered(pretty: Terminal.current.isTTY))
                } else {
                    emit(lines, from: printed)
                }
                return .ok
            }
            emit(lines, from: printed)
            printed = lines.count
            var stream = try await EventStream.open(client)
            let refresh = interval?.duration ?? .seconds(1)
            while info.state?.isTerminal != true {
                _ = try await stream.next(block: info.state == .running ? refresh : .seconds(5))
                info = try await client.status(id)
                lines = try await client.logs(of: id)
                if lines.count < printed { printed = 0 }  // re-opened by retry, or trimmed: start over
                if lines.count > printed {
                    emit(lines, from: printed)
                    printed = lines.count
                }
            }
            return .ok
        }
    }
}
