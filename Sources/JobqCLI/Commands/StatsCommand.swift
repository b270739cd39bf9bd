import ArgumentParser
import Jobq
import JobqCore

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show how many tasks are in each state, and the namespace's counters.",
        discussion: """
            "Tasks now" counts the records Redis holds per state (finished ones until their \
            retention expires). "Counters" add up since the namespace was first used: submitted, \
            claimed, done, failed, cancelled, retried (a run failed and was scheduled again), \
            reopened (by jobq retry).

              jobq stats
              jobq stats --json | jq .tasks.pending
            """
    )

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            let overview = try await client.overview()
            let counters = try await client.stats()
            let queues = try await client.queues()
            let names = OperatorJSON.counterNames + counters.keys.filter { !OperatorJSON.counterNames.contains($0) }.sorted()
            if output.json {
                // the dashboard's /api/v1/overview: the same object, with the last 24 h per minute
                let rates = try await client.minuteRates(hours: 24)
                Console.out(OperatorJSON.overview(namespace: client.namespace, overview: overview, queues: queues, counters: counters, rates: rates).rendered(pretty: Terminal.current.isTTY))
                return .ok
            }
            let terminal = Terminal.current
            Console.out(terminal.paint("namespace \(client.namespace)", .bold))
            Console.out("")
            Console.out(terminal.paint("Tasks now", .bold))
            for state in TaskState.allCases {
                var line = "  " + padded(terminal.paint(state.rawValue, Terminal.color(of: state)), to: 11) + String(OperatorJSON.count(overview, state))
                if state == .pending {
                    line += "  (\(overview.ready) queued, \(overview.delayed) waiting for a time, \(overview.waiting) for prerequisites)"
                }
                Console.out(line)
            }
            Console.out("")
            Console.out(terminal.paint("Counters", .bold) + " (since the namespace was created)")
            for name in names {
                Console.out("  " + padded(name, to: 11) + String(counters[name] ?? 0))
            }
            Console.out("")
            let paused = queues.filter(\.paused).count
            Console.out("\(queues.count) queue(s)" + (paused > 0 ? ", \(paused) paused" : "") + "; \(overview.workers) worker(s) alive")
            return .ok
        }
    }

}
