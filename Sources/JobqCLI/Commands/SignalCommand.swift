import ArgumentParser
import Jobq
import JobqCore

/// `jobq signal TASK NAME [--payload JSON]`: a task waiting for NAME runs again; a task still
/// pending or running keeps it for its wait to come (docs/cli.md, "signal and answer").
struct SignalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal",
        abstract: "Send a signal to a task that waits (or will wait) for it.",
        discussion: """
            A task waiting for NAME (jobq status says "waiting for signal NAME") is queued again; \
            its handler finds the payload. A task still pending or running keeps the signal for \
            the wait to come (the same name again replaces it). A task that has ended refuses it \
            (invalid_state, exit 65).

              jobq signal deploy-42 approve --payload '{"by": "ann"}'
            """
    )

    @Argument(help: ArgumentHelp("The task.", valueName: "task"))
    var task: String

    @Argument(help: ArgumentHelp("The signal's name (letters, digits, '.', '_', '-').", valueName: "name"))
    var name: String

    @Option(name: .long, help: ArgumentHelp("JSON payload: literal JSON, @path to read a file, or - for stdin (at most 64 KiB). (default: null)", valueName: "json|@file|-"))
    var payload: String?

    @OptionGroup var acting: ActorOption
    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            let value = try payload.map(SubmitCommand.readPayload) ?? .null
            let delivery = try await client.signal(task: task, name: name, payloadJSON: value.bytes, actor: acting.name)
            SignalCommand.report(task: task, what: "signal \(name)", delivery: delivery, json: output.json)
            return .ok
        }
    }

    /// One line (or one JSON object) saying whether the task runs again or keeps the signal.
    static func report(task: String, what: String, delivery: SignalDelivery, json: Bool) {
        if json {
            Console.out(JSONValue.object([("task", .string(task)), ("delivery", .string(delivery.rawValue))]).rendered())
        } else {
            Console.out(delivery == .resumed ? "task \(task): \(what) delivered; it no longer waits for it" : "task \(task): \(what) kept for its wait to come")
        }
    }
}

/// `jobq answer TASK CHOICE`: answers the question a task asks (`context.ask`, `JOBQ_ASK`).
struct AnswerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "answer",
        abstract: "Answer the question a task asks; it runs again with the answer.",
        discussion: """
            The choice must be one of those the question offers (jobq status TASK shows them): \
            anything else is refused (invalid_answer, exit 64), as is an answer to a task that \
            asks nothing now (not_asking, exit 64). Nothing is written then.

              jobq answer upload-7 yes
            """
    )

    @Argument(help: ArgumentHelp("The task.", valueName: "task"))
    var task: String

    @Argument(help: ArgumentHelp("One of the question's choices.", valueName: "choice"))
    var choice: String

    @OptionGroup var acting: ActorOption
    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            let delivery = try await client.answer(task: task, choice: choice, actor: acting.name)
            SignalCommand.report(task: task, what: "answer \(choice)", delivery: delivery, json: output.json)
            return .ok
        }
    }
}
