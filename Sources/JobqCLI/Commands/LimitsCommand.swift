import ArgumentParser
import Jobq
import JobqCore

/// `jobq limits`: the concurrency keys with tasks running or parked, how full each is.
struct LimitsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "List concurrency keys: tasks running, the limit, tasks parked at it.",
        discussion: """
            Only keys with tasks running or parked are listed (a key is forgotten when nothing \
            of it runs or waits). Keys are read in pages (--limit a page, SSCAN), so a fleet \
            with millions of keys costs bounded work per call; pass the printed cursor to \
            --cursor for the next page. LIMIT is the one the key's last claimed task carried.

              jobq limits
              jobq limits --json | jq -r '.limits[] | select(.parked > 0) | .key'
            """
    )

    @Option(name: .long, help: ArgumentHelp("Keys read per page (at most 1000).", valueName: "n"))
    var limit = 100

    @Option(name: .long, help: ArgumentHelp("Continue from this cursor (printed after a partial page).", valueName: "cursor"))
    var cursor = "0"

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000; got \(limit)") }
    }

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            let page = try await client.limits(cursor: cursor, count: limit)
            if output.json {
                Console.out(OperatorJSON.limits(page).rendered())
                return .ok
            }
            if page.keys.isEmpty && page.next == nil {
                Console.out("no concurrency key has tasks running or parked")
                return .ok
            }
            var table = Table([
                .init(header: "KEY", max: 60, flexible: true), .init(header: "RUNNING", max: 8, alignRight: true),
                .init(header: "LIMIT", max: 6, alignRight: true), .init(header: "PARKED", max: 8, alignRight: true),
            ])
            for usage in page.keys {
                table.add([.init(usage.key), .init(String(usage.running)), .init(usage.limit.map(String.init) ?? "-"), .init(String(usage.parked))])
            }
            table.render().forEach { Console.out($0) }
            if let next = page.next { Console.out("more: jobq limits --cursor \(next)") }
            return .ok
        }
    }
}
