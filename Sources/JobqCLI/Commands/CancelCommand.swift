import ArgumentParser
import Jobq
import JobqCore

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a task, or every unfinished task of a workflow.",
        discussion: """
            A pending task becomes CANCELLED at once, and so do the tasks that depend on it \
            (unless their `after` policy is `always`). A running task is asked to stop: its \
            worker learns it at its next heartbeat, stops the handler, and the task ends \
            CANCELLED.

              jobq cancel 01J0ABCD…
              jobq cancel --workflow nightly
              jobq cancel 01J0ABCD… --message "superseded by 01J0ABCE…"

            Exit status 65 when the task has already ended (nothing to cancel), 66 when there \
            is no such task or workflow.
            """
    )

    @Argument(help: ArgumentHelp("A task id (ID or RUN/TASK), or a run id: every unfinished task of the run.", valueName: "id|run"))
    var id: String?

    @Option(name: .long, help: ArgumentHelp("Cancel every unfinished task of this workflow instead.", valueName: "workflow"))
    var workflow: String?

    @Option(name: .long, help: ArgumentHelp("Why; recorded as the task's error.", valueName: "text"))
    var message: String?

    @OptionGroup var acting: ActorOption
    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func validate() throws {
        if (id == nil) == (workflow == nil) {
            throw ValidationError("give either a task or run id (jobq cancel ID) or --workflow WORKFLOW")
        }
    }

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            var workflow = workflow
            if workflow == nil, let id, case .workflow(let run) = try await Target.resolve(id, client: client) { workflow = run }
            if let workflow {
                let outcome = try await client.cancel(workflow: workflow, message: message ?? "workflow cancelled by request", actor: acting.name)
                let (cancelled, requested) = (outcome.cancelled, outcome.requested)
                if output.json {
                    Console.out(JSONValue.object([("workflow", .string(workflow)), ("cancelled", .int(cancelled)), ("requested", .int(requested))]).rendered())
                } else {
                    let what = try await client.engine.tasks.run(workflow) != nil ? "run" : "workflow"
                    if cancelled + requested == 0 {
                        Console.out("\(what) \(workflow): nothing to cancel, every task had already ended")
                    } else {
                        Console.out("\(what) \(workflow): \(cancelled) task(s) cancelled" + (requested > 0 ? ", \(requested) running task(s) asked to stop" : ""))
                    }
                }
                return .ok
            }
            let id = id ?? ""
            let outcome = try await client.cancel(id, message: message ?? "cancelled by request", actor: acting.name)
            let word = switch outcome {
            case .cancelled: "cancelled"
            case .requested: "requested"
            case .alreadyRequested: "already_requested"
            }
            if output.json {
                Console.out(JSONValue.object([("id", .string(id)), ("outcome", .string(word))]).rendered())
            } else {
                switch outcome {
                case .cancelled: Console.out("\(id): cancelled")
                case .requested: Console.out("\(id): running; its worker was asked to stop it (jobq wait \(id) to see it end)")
                case .alreadyRequested: Console.out("\(id): running; cancellation had already been requested")
                }
            }
            return .ok
        }
    }
}
