import ArgumentParser
import Jobq
import JobqCore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a task in detail, or a workflow's summary line and task table.",
        discussion: """
            For a task: its state and why (reason, error), attempts and the last few of its \
            attempt history, prerequisites and their states, times, progress groups, and the \
            beginning of its payload and result. What failed and why across many tasks: jobq debrief.

            For a workflow: the summary line after asynciojobs — "3D + 1R + 2P = 6" counts \
            tasks DONE, RUNNING, PENDING, FAILED and CANCELLED — then one row per task.

              jobq status 01J0ABCD…
              jobq status nightly
              jobq status nightly --json | jq '.counts.failed'

            A name is looked up as a task first, then as a workflow; --workflow looks up only \
            the workflow. Exit status 66 when neither exists.
            """
    )

    @Argument(help: ArgumentHelp("A task id or a workflow id.", valueName: "id|workflow"))
    var target: String

    @Flag(name: .long, help: "Treat the argument as a workflow id even if a task has the same id.")
    var workflow = false

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            switch try await Target.resolve(target, client: client, workflowOnly: workflow) {
            case .task(let id):
                try await showTask(id, client: client)
            case .workflow(let id):
                let snapshot = try await Snapshot.load(.workflow(id), client: client)
                if output.json {
                    Console.out(snapshot.json().rendered(pretty: Terminal.current.isTTY))
                } else {
                    WorkflowTable.print(snapshot)
                }
            }
            return .ok
        }
    }

    private func showTask(_ id: String, client: JobqClient) async throws {
        // the same report, and the same JSON, as the dashboard's /api/v1/tasks/ID
        let report = try await client.taskReport(id)
        if output.json {
            Console.out(report.json.rendered(pretty: Terminal.current.isTTY))
            return
        }
        TaskDetail.print(report.info, prerequisiteStates: report.prerequisiteStates, progress: report.progress, history: report.history, limit: report.limit, rate: report.rate,
                         children: report.childrenText)
    }
}
