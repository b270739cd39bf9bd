import ArgumentParser
import Jobq
import JobqCore

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print the transition stream (every state change of tasks and runs); -f follows it.",
        discussion: """
            One line per transition, oldest first: local time, the task (or `run RUN`), \
            FROM → TO, the attempt and the reason. Without -f: the last --limit transitions \
            (default \(EventsCommand.defaultLimit)) that match the filters, then exit 0. With \
            -f: those, then new ones as they happen, until Ctrl-C or SIGTERM (exit 0). \
            --since starts at a stream id, a duration ago or an ISO 8601 time instead: every \
            matching transition from then on (with --limit: the last N of them).

              jobq events
              jobq events -f --run nightly-01JF3Q8Z6W9D2K4M7N0P5R8T1V
              jobq events --queue reports --since 10m
              jobq events --task RUN/fetch --json | jq -r .reason
              jobq events --since 1700000000000-0 --limit 100

            A run or task with no events is not an error: nothing matches (yet). The stream is \
            capped (about 20,000 entries of up to 50 transitions), so old transitions go first; \
            --queue matches only tasks whose record still exists.
            """
    )

    static let defaultLimit = 20
    static let limits = 1...10_000

    @Flag(name: [.short, .long], help: "After the last transitions, print new ones as they happen (Ctrl-C ends, exit 0).")
    var follow = false

    @Option(name: .long, help: ArgumentHelp("Only the run's task transitions and its own (run-level) ones.", valueName: "run"))
    var run: String?

    @Option(name: .long, help: ArgumentHelp("Only tasks of this queue (read from each task's record).", valueName: "queue"))
    var queue: String?

    @Option(name: .long, help: ArgumentHelp("Only this task (ID or RUN/KEY).", valueName: "id"))
    var task: String?

    // `.unconditional`ly, as submit's numbers: `--since -5m` and `--limit -1` must reach the
    // checks (invalid_option), not be taken for unknown flags.
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Start here instead of the last N: a stream id (1700000000000-0), a duration ago (10m) or an ISO 8601 time.", valueName: "when"))
    var since: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("How many of the last matching transitions (1 to 10000; default \(EventsCommand.defaultLimit), with --since all).", valueName: "n"))
    var limit: Int?

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    /// Entries per page read from the stream (each up to 50 transitions).
    static let pageEntries = 200

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            if let limit, !Self.limits.contains(limit) {
                throw JobqError(.invalidOption, "--limit must be from \(Self.limits.lowerBound) to \(Self.limits.upperBound) transitions; got \(limit)")
            }
            var filter = try EventFilter(run: run, task: task, queue: queue)
            let since = try since.map { (text) throws(JobqError) in try EventSince.parse(text) }
            let printer = EventPrinter(json: output.json)
            // The newest entry now: the past is read up to it, and -f follows after it, so no
            // transition is shown twice or missed in between.
            let end = try await client.lastEventID()
            let past: [TaskEventRecord]
            if let since {
                let start = try await since.start(client: client)
                past = try await Self.forward(from: start.description, to: end, limit: limit, filter: &filter, client: client, printer: printer)
            } else {
                past = try await Self.lastMatching(limit ?? Self.defaultLimit, before: end, filter: &filter, client: client)
            }
            past.forEach(printer.print)
            guard follow else {
                if past.isEmpty && since == nil && Terminal.stderrIsTTY { Console.err("jobq: no transitions match") }
                return .ok
            }
            let stop = InterruptGuard.installQuietEnd()
            defer { stop.cancel() }
            try await client.followEvents(after: end) { (records) throws(JobqError) in
                if records.isEmpty { return Console.endIfReaderGone() }
                try await filter.matching(records, client: client).forEach(printer.print)
            }
        }
    }

    /// The last `limit` matching transitions up to `end`, oldest first: pages of the stream
    /// newest first until enough matched or the stream's start.
    static func lastMatching(_ limit: Int, before end: String, filter: inout EventFilter, client: JobqClient) async throws(JobqError) -> [TaskEventRecord] {
        var found: [TaskEventRecord] = []
        var cursor = end
        while found.count < limit {
            let page = try await client.events(from: "-", to: cursor, newestFirst: true, count: pageEntries)
            guard let last = page.last else { break }
            found += try await filter.matching(page.records, client: client).prefix(limit - found.count)
            cursor = "(" + last
        }
        return found.reversed()
    }

    /// The matching transitions from `start` to `end`, oldest first. Without a `limit` they are
    /// printed page by page as they are read (a long range never sits in memory) and none are
    /// returned; with one, the last `limit` are kept and returned.
    static func forward(from start: String, to end: String, limit: Int?, filter: inout EventFilter, client: JobqClient, printer: EventPrinter) async throws(JobqError) -> [TaskEventRecord] {
        var kept: [TaskEventRecord] = []
        var cursor = start
        while true {
            let page = try await client.events(from: cursor, to: end, count: pageEntries)
            guard let last = page.last else { break }
            let matched = try await filter.matching(page.records, client: client)
            if let limit {
                kept += matched
                if kept.count > limit { kept.removeFirst(kept.count - limit) }
            } else {
                matched.forEach(printer.print)
            }
            cursor = "(" + last
        }
        return kept
    }
}
