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
        let info = try await client.status(id)
        let progress = info.state == .running ? try await client.progress(of: id) : []
        let ids = info.prerequisites.map(\.id)
        var states: [String: TaskState?] = [:]
        for (prerequisite, state) in zip(ids, try await client.states(of: ids)) { states[prerequisite] = state }
        let history = try await client.attempts(of: id)
        var limit: LimitUsage?
        if let key = info.concurrencyKey { limit = try await client.limitUsage([key]).first }
        var rate: RateUsage?
        if let given = info.rate, let key = given.key { rate = try await client.rateUsage([key], rates: [key: given]).first }
        // the child run it waits for (a sub-workflow, a map, spawned children): how far its children are
        var children: RunInfo?
        if let run = info.childRun ?? info.spawnedRun { children = try await client.engine.tasks.run(run) }
        let mapped = info.mappedCount.flatMap { count in info.childRun.map { (count: count, id: $0) } }
        if output.json {
            var detail = TaskJSON.detail(info, prerequisiteStates: states, progress: progress, history: history, limit: limit, rate: rate,
                                         rateLimited: Snapshot.rateLimited(info, usage: rate, now: DurationText.nowMilliseconds) != nil,
                                         children: children)
            if let mapped, case .object(var fields) = detail {
                fields.append(("mapped", MapProgress.json(count: mapped.count, run: children, id: mapped.id)))
                detail = .object(fields)
            }
            Console.out(detail.rendered(pretty: Terminal.current.isTTY))
            return
        }
        TaskDetail.print(info, prerequisiteStates: states, progress: progress, history: history, limit: limit, rate: rate, children: children,
                         mapped: mapped.map { MapProgress.text(count: $0.count, run: children, id: $0.id) })
    }
}
