import ArgumentParser
import Jobq
import JobqCore

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List workflow runs, newest first.",
        discussion: """
            Each run's state, its summary line ("2D + 1R + 3P = 6": done, running, pending, \
            failed, cancelled), its definition and when it was created. Paged server-side: \
            a page ends with the cursor for the next one (--after), so a namespace with 100,000 \
            runs answers a page as fast as one with ten.

              jobq runs
              jobq runs --state failed --definition nightly
              jobq runs --queue gpu --since 2h --until 1h
              jobq runs --json | jq -r '.runs[].id'
              jobq runs --after 1764662400000:nightly-01JF3Q8Z6W9D2K4M7N0P5R8T1V  # next

            A run is listed until the retention of its last task expires.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Only runs in this state: pending, running, done, failed or cancelled.", valueName: "state"))
    var state: RunState?

    @Option(name: .long, help: ArgumentHelp("Only runs of this definition (the file's `workflow:` name).", valueName: "name"))
    var definition: String?

    @Option(name: .long, help: ArgumentHelp("Only runs one of whose tasks was submitted to this queue.", valueName: "queue"))
    var queue: String?

    @Option(name: .long, help: ArgumentHelp("Only runs submitted at or after this time: a duration ago (2h), an ISO 8601 time, or ms since 1970.", valueName: "when"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("Only runs submitted at or before this time (as --since).", valueName: "when"))
    var until: String?

    @Option(name: .long, help: ArgumentHelp("Runs per page (1 to 1000).", valueName: "n"))
    var limit: Int = 20

    @Option(name: .long, help: ArgumentHelp("Start after this cursor (printed at the end of the previous page).", valueName: "cursor"))
    var after: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000") }
        if let after, RunCursor(after) == nil { throw ValidationError("--after \"\(after)\" is not a cursor (MILLISECONDS:RUN, as a page of jobq runs prints it)") }
    }

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            func bound(_ text: String?, _ option: String) throws(JobqError) -> TimeBound? {
                guard let text else { return nil }
                return try TimeBound.parse(text, option: option)
            }
            let from = try bound(since, "--since"), to = try bound(until, "--until")
            let now = [from, to].contains(where: { $0?.isRelative == true }) ? try await client.serverTime() : 0
            let page = try await client.runs(
                definition: definition, state: state, queue: queue,
                submittedSince: from?.milliseconds(now: now), submittedUntil: to?.milliseconds(now: now),
                after: after.flatMap(RunCursor.init), limit: limit
            )
            if output.json {
                Console.out(OperatorJSON.runs(page).rendered(pretty: Terminal.current.isTTY))
                return .ok
            }
            let terminal = Terminal.current
            if page.runs.isEmpty {
                Console.out("no runs" + (state.map { " in state \($0.rawValue)" } ?? "") + (definition.map { " of \($0)" } ?? "") + (after == nil ? "" : " after that cursor"))
            } else {
                let now = DurationText.nowMilliseconds
                var table = Table([
                    .init(header: "RUN", max: 44), .init(header: "STATE", max: 9), .init(header: "TASKS", max: 30, flexible: true),
                    .init(header: "DEFINITION", max: 20), .init(header: "AGE", max: 7, alignRight: true),
                ])
                for run in page.runs {
                    let age = run.created.map { DurationText.format(milliseconds: max(0, now - $0)) } ?? "-"
                    var tasks = run.summary.description + " = \(run.total)"
                    if let reason = run.reason { tasks += " (\(reason))" }
                    table.add([
                        .init(run.id), .init(run.submitting ? "SUBMITTING" : run.state.rawValue, RunJSON.color(of: run.state)), .init(tasks),
                        .init(run.definition), .init(age),
                    ])
                }
                table.render().forEach { Console.out($0) }
            }
            if let next = page.next {
                Console.out(terminal.paint("more: jobq runs --after \(next)" + (state.map { " --state \($0.rawValue.lowercased())" } ?? "") + (definition.map { " --definition \($0)" } ?? ""), .dim))
            }
            return .ok
        }
    }
}
