import ArgumentParser
import Jobq
import JobqCore

/// `jobq debrief`: what failed and why, after the fact (asynciojobs' `debrief()`).
struct DebriefCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debrief",
        abstract: "What failed and why: errors, causes and attempt histories.",
        discussion: """
            For each FAILED or CANCELLED task: its state, reason, error and its attempt \
            history (every attempt's worker, start, duration, outcome and error). Tasks \
            cancelled because a prerequisite did not succeed are collapsed into one line per \
            root cause ("12 tasks cancelled because fetch failed"). Tasks that succeeded only \
            after failed attempts follow in a shorter section. The summary line comes first.

              jobq debrief nightly-01J…                 # a run: every task of it
              jobq debrief nightly-01J…/fetch other-task
              jobq debrief --workflow nightly
              jobq debrief --workflow nightly --json | jq '.problems[].attempt_history'

            Exit status: 0 nothing FAILED or CANCELLED (recovered tasks and tasks still \
            running are reported but do not count), 1 something did, 66 no such task or workflow.
            """
    )

    @Argument(help: ArgumentHelp("A run id, or task ids (ID or RUN/TASK).", valueName: "id|run"))
    var ids: [String] = []

    @Option(name: .long, help: ArgumentHelp("Debrief every task of this workflow (read in pages).", valueName: "workflow"))
    var workflow: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func validate() throws {
        if ids.isEmpty == (workflow == nil) {
            throw ValidationError("give task ids or --workflow WORKFLOW (not both)")
        }
    }

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            // One name that is a run (not a task): the whole run.
            var workflow = workflow
            if workflow == nil, ids.count == 1, case .workflow(let run) = try await Target.resolve(ids[0], client: client) { workflow = run }
            let report = if let workflow {
                try await DebriefReport.load(workflow: workflow, client: client)
            } else {
                try await DebriefReport.load(ids: ids, client: client)
            }
            if output.json {
                Console.out(DebriefOutput.json(report).rendered(pretty: Terminal.current.isTTY))
            } else {
                DebriefOutput.print(report)
            }
            return report.hasFailures ? .taskFailed : .ok
        }
    }
}
