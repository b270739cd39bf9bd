import ArgumentParser
import Jobq
import JobqCore

struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "List queues: tasks ready to run, the oldest one's age, and whether each is paused.",
        discussion: """
            READY counts the ids waiting in the queue's list (an id cancelled while queued is \
            counted until a worker skips it). Tasks that wait for prerequisites or for a time \
            are not in the list yet. OLDEST is how long the oldest ready task has been \
            claimable (queue latency, as the metrics' jobq_queue_latency_seconds). FAIR KEYS counts \
            the fair keys (submit --fair-key) with ready tasks: claims take them in turns, one \
            task per key, instead of in submission order.

              jobq queues
              jobq pause reports && jobq queues --json
            """
    )

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            let queues = try await client.queues()
            if output.json {
                Console.out(OperatorJSON.queues(queues).rendered(pretty: Terminal.current.isTTY))
                return .ok
            }
            guard !queues.isEmpty else {
                Console.out("no queues yet (a queue appears when a task is first submitted to it)")
                return .ok
            }
            var table = Table([.init(header: "QUEUE", max: 40), .init(header: "READY", max: 10, alignRight: true), .init(header: "OLDEST", max: 12, alignRight: true), .init(header: "FAIR KEYS", max: 10, alignRight: true), .init(header: "STATUS", max: 10)])
            for queue in queues {
                let oldest = OperatorJSON.oldestMilliseconds(queue).map { DurationText.format(milliseconds: Int64($0)) } ?? "-"
                table.add([.init(queue.name), .init(String(queue.ready)), .init(oldest), .init(queue.fairKeys > 0 ? String(queue.fairKeys) : "-"), queue.paused ? .init("paused", .yellow) : .init("active", .green)])
            }
            table.render().forEach { Console.out($0) }
            return .ok
        }
    }
}
