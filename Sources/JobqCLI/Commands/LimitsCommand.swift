import ArgumentParser
import Jobq
import JobqCore

/// `jobq limits`: the concurrency keys with tasks running or parked, how full each is; and the
/// rate keys holding tasks back (starts left in the window, paused until).
struct LimitsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "List concurrency keys (tasks running, the limit, parked) and rate keys (starts left, paused until, parked).",
        discussion: """
            Only keys with tasks running or parked are listed (a key is forgotten when nothing \
            of it runs or waits). Keys are read in pages (--limit a page, SSCAN), so a fleet \
            with millions of keys costs bounded work per call; pass the printed cursor to \
            --cursor for the next page. LIMIT is the one the key's last claimed task carried.

            Rate keys are listed on the first page (no --cursor): those with tasks parked             over their rate or a pause in force (a handler's "rate limited, retry after D"),             earliest wake first, --limit of them: RATE (N per interval), LEFT (starts left in             the current window), PARKED, PAUSED UNTIL, WAKE (when the maintenance pass next             wakes its parked tasks).

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
            let rates = cursor == "0" ? try await client.rateLimits(count: limit) : (keys: [], total: 0)
            if output.json {
                // the dashboard's /api/v1/limits shape, and the rate limits beside it
                guard case .object(var fields) = OperatorJSON.limits(page) else { return .ok }
                fields += [("rate_limits", .array(rates.keys.map(Self.json))), ("rate_keys_total", .int(rates.total))]
                Console.out(JSONValue.object(fields).rendered())
                return .ok
            }
            if !rates.keys.isEmpty {
                var table = Table([
                    .init(header: "RATE KEY", max: 60, flexible: true), .init(header: "RATE", max: 10, alignRight: true),
                    .init(header: "LEFT", max: 6, alignRight: true), .init(header: "PARKED", max: 8, alignRight: true),
                    .init(header: "PAUSED UNTIL", max: 24), .init(header: "WAKE", max: 24),
                ])
                for usage in rates.keys {
                    table.add([
                        .init(usage.key), .init(usage.rateText ?? "-"), .init(usage.startsLeft.map(String.init) ?? "-"),
                        .init(String(usage.parked)), .init(usage.pausedUntil.map { DurationText.local(milliseconds: $0) } ?? "-"),
                        .init(usage.wakeAt.map { DurationText.local(milliseconds: $0) } ?? "-"),
                    ])
                }
                table.render().forEach { Console.out($0) }
                if rates.total > rates.keys.count { Console.out("(\(rates.total - rates.keys.count) more rate keys hold tasks back)") }
                if !page.keys.isEmpty { Console.out("") }
            }
            if page.keys.isEmpty && page.next == nil {
                if rates.keys.isEmpty { Console.out("no concurrency key has tasks running or parked; no rate key holds tasks back") }
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

    /// One rate key as `--json` shows it (status uses the same shape).
    static func json(_ usage: RateUsage) -> JSONValue {
        .object([
            ("key", .string(usage.key)), ("rate", .optional(usage.rateText)), ("limit", .optional(usage.limit)),
            ("interval_ms", .optional(usage.intervalMs.map { Int($0) })), ("recent_starts", .int(usage.recentStarts)),
            ("starts_left", .optional(usage.startsLeft)), ("parked", .int(usage.parked)),
            ("paused_until", .optional(usage.pausedUntil.map { DurationText.iso8601(milliseconds: $0) })),
            ("wake_at", .optional(usage.wakeAt.map { DurationText.iso8601(milliseconds: $0) })),
        ])
    }
}
