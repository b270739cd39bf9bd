import ArgumentParser
import Jobq
import JobqCore

struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "List the workers seen alive and the tasks they are running.",
        discussion: """
            Each jobq-worker registers itself and refreshes the registration with its \
            heartbeats; one that stops doing so (killed, partitioned) disappears from this list \
            after its registration expires, and its tasks' leases expire and are retried.
            FLAGS: `silent` when its last heartbeat is older than 3 of its intervals, `overdue N` \
            when N of its tasks have run past their timeout (--json: silent, overdue, stuck).

              jobq workers
              jobq workers --json | jq '.workers[].running'
            """
    )

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            let workers = try await client.workers()
            let now = try await client.serverTime()
            if output.json {
                Console.out(OperatorJSON.workers(workers, now: now).rendered(pretty: Terminal.current.isTTY))
                return .ok
            }
            guard !workers.isEmpty else {
                Console.out("no workers alive in namespace \(client.namespace) (start one with: jobq-worker)")
                return .ok
            }
            var table = Table([
                .init(header: "WORKER", max: 30), .init(header: "HOST", max: 16), .init(header: "PID", max: 7, alignRight: true),
                .init(header: "QUEUES", max: 16), .init(header: "BUSY", max: 7, alignRight: true), .init(header: "SEEN", max: 6, alignRight: true),
                .init(header: "FLAGS", max: 16), .init(header: "RUNNING", max: 40, flexible: true),
            ])
            for worker in workers {
                table.add([
                    .init(worker.id), .init(worker.host), .init(String(worker.pid)), .init(worker.queues.joined(separator: ",")),
                    .init("\(worker.running.count)/\(worker.concurrency)"), .init(DurationText.format(milliseconds: max(0, now - worker.lastSeen))),
                    Self.flags(worker, now: now),
                    .init(worker.running.isEmpty ? "-" : worker.running.joined(separator: " ")),
                ])
            }
            table.render().forEach { Console.out($0) }
            return .ok
        }
    }

    /// `silent`, `overdue N`, both, or `-`.
    static func flags(_ worker: WorkerInfo, now: Int64) -> Table.Cell {
        var flags: [String] = []
        if worker.isSilent(now: now) { flags.append("silent") }
        if !worker.overdue.isEmpty { flags.append("overdue \(worker.overdue.count)") }
        return flags.isEmpty ? .init("-") : .init(flags.joined(separator: " "), .yellow)
    }
}
