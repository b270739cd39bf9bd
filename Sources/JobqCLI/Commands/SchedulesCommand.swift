import ArgumentParser
import Jobq
import JobqCore

/// `jobq schedules`: every schedule, its next tick, its last run and how that went.
struct SchedulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedules",
        abstract: "List schedules: next fire time, last run and its state, paused.",
        discussion: """
            Sorted by next fire time, paused ones last. NEXT is this machine's local time, IN \
            is relative to Redis's clock; --json gives every field (times in ms and ISO 8601 UTC).

              jobq schedules
              jobq schedules --json | jq -r '.schedules[] | select(.paused) | .name'
            """
    )

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            let schedules = try await client.schedules()
            let now = try await client.serverTime()
            if output.json {
                Console.out(JSONValue.object([("schedules", .array(schedules.map { ScheduleJSON.object($0, now: now) }))]).rendered())
                return .ok
            }
            guard !schedules.isEmpty else {
                Console.out("no schedules (add one with: jobq schedule add NAME --cron EXPR -f FILE)")
                return .ok
            }
            var table = Table([
                .init(header: "NAME", max: 30), .init(header: "SPEC", max: 40, flexible: true), .init(header: "NEXT", max: 14),
                .init(header: "IN", max: 9, alignRight: true), .init(header: "LAST RUN", max: 44), .init(header: "STATE", max: 9),
            ])
            for schedule in schedules {
                let spec = schedule.specText + (schedule.timeZone.map { " " + $0 } ?? "")
                let next: String = schedule.nextFire.map { ScheduleJSON.localTime($0) } ?? "paused"
                let due: String = schedule.nextFire.map { ScheduleJSON.relative($0, now: now) } ?? "-"
                // a tick skipped or missed since the last run shows as such
                var outcome = schedule.lastOutcome == "skip" || schedule.lastOutcome == "missed" ? " (then \(schedule.lastOutcome ?? ""))" : ""
                if schedule.buffered != nil { outcome += " (one buffered)" }
                let state: Table.Cell = schedule.lastRunState.map { Table.Cell($0.rawValue + outcome, RunJSON.color(of: $0)) } ?? Table.Cell("-" + outcome)
                table.add([.init(schedule.name), .init(spec), .init(next), .init(due), .init(schedule.lastRun ?? "-"), state])
            }
            table.render().forEach { Console.out($0) }
            return .ok
        }
    }
}
