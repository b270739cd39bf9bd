import ArgumentParser
import Jobq
import JobqCore

struct ResultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "result",
        abstract: "Print the JSON result of a DONE (or SKIPPED) task.",
        discussion: """
            Prints the result exactly as the handler returned it (JSON; `null` when it returned \
            nothing). A SKIPPED task prints the result its skip gave, `null` when none (exit 0, \
            as its dependents see it). Exit status 65 when the task is neither DONE nor SKIPPED \
            (the message says its state and error), 66 when there is no such task.

              jobq result 01J0ABCD… | jq .count
              jobq result 01J0ABCD… --pretty
            """
    )

    @Argument(help: ArgumentHelp("The task id.", valueName: "id"))
    var id: String

    @Flag(name: .long, help: "Indent the JSON.")
    var pretty = false

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            let info = try await client.status(id)
            guard info.state?.isSuccessLike == true else {
                let state = info.state?.rawValue ?? "unknown"
                let why = info.error.map { ": \($0)" } ?? ""
                let hint = switch info.state {
                case .pending, .running: "; wait for it with: jobq wait \(id)"
                case .failed, .cancelled: "; see jobq status \(id), re-run it with: jobq retry \(id)"
                default: ""
                }
                throw JobqError(.invalidState, "task \(id) is \(state), not DONE, so it has no result\(why)\(hint)", subject: id)
            }
            // a mapped task's result: its children's results, in order (read in pages)
            let result = try await client.engine.tasks.expandMapped(info.result ?? [])
            if pretty {
                Console.out(JSONValue.stored(result).rendered(pretty: true))
            } else if !result.isEmpty {
                Console.out(bytes: result)
            } else {
                Console.out("null")
            }
            return .ok
        }
    }
}
