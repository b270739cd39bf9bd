import ArgumentParser
import Dispatch
import Foundation
import Jobq
import JobqCore

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow a workflow or task live: a tree of progress bars; exit code = outcome.",
        discussion: """
            On a terminal, redraws in place: the summary line ("2D + 1R + 3P = 6"), then one \
            row per task with its state, a progress bar and what it is doing or waiting for; a \
            running task's progress groups (jobcontrol's progress tree) appear as sub-bars.

            Not on a terminal (a pipe, a CI log), prints one line per change instead: state \
            transitions, the summary, and progress of running tasks at most every few seconds. \
            With --json, prints one JSON object (the `status --json` shape) per change.

            Waits on Redis's event stream; while tasks run it also refreshes their progress \
            every --interval. Exits when everything has ended: 0 if all DONE, 1 if anything \
            FAILED or was CANCELLED, 75 after --timeout, 130 on Ctrl-C (the tasks go on).

              jobq watch nightly
              jobq watch 01J0ABCD… --interval 1s
              jobq submit -f flow.yaml | xargs jobq watch
            """
    )

    @Argument(help: ArgumentHelp("A workflow id or a task id.", valueName: "workflow|id"))
    var target: String

    @Flag(name: .long, help: "Treat the argument as a workflow id even if a task has the same id.")
    var workflow = false

    @Option(name: .long, help: ArgumentHelp("Stop watching after this long (exit 75); the tasks go on.", valueName: "duration"))
    var timeout: DurationArgument?

    @Option(name: .long, help: ArgumentHelp("How often to refresh running tasks' progress (default: 500ms on a terminal, 5s otherwise).", valueName: "duration"))
    var interval: DurationArgument?

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        let terminal = Terminal.current
        let json = output.json
        let live = terminal.isTTY && !json
        let refresh = interval?.duration ?? (live ? .milliseconds(500) : .seconds(5))
        let interrupt = live ? InterruptGuard.install() : nil
        defer { interrupt?.cancel() }
        try await CommandRunner.run(connection, json: json) { client in
            let resolved = try await Target.resolve(target, client: client, workflowOnly: workflow)
            var renderer = WatchRenderer(terminal: terminal, mode: json ? .json : (live ? .live : .lines))
            let clock = ContinuousClock()
            let start = clock.now
            let outcome = try await Waiting.follow(
                resolved, client: client, timeout: timeout?.duration,
                block: { $0.anyRunning ? refresh : .seconds(5) },
                onEach: { renderer.show($0, elapsed: clock.now - start) }
            )
            switch outcome {
            case .finished(let snapshot):
                renderer.finish(snapshot)
                return snapshot.outcome
            case .timedOut(let snapshot):
                renderer.finish(nil)
                throw JobqError(
                    .timeout,
                    "stopped watching \(resolved.name) after \(timeout?.text ?? "") (\(snapshot.summary.description)); its tasks go on — watch again or check jobq status \(resolved.name)",
                    subject: resolved.name
                )
            }
        }
    }
}
