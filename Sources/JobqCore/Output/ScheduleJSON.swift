import Foundation

/// The JSON object of a schedule (stable snake_case fields, times in ms and ISO 8601 UTC), for
/// `jobq schedules --json`, `jobq schedule add --json` and the dashboard's API.
package enum ScheduleJSON {
    package static func object(_ schedule: Schedule, now: Int64?) -> JSONValue {
        var fields: [(String, JSONValue)] = [("name", .string(schedule.name))]
        switch schedule.timing {
        case .cron(let expression, let zone):
            fields += [("cron", .string(expression.text)), ("tz", .string(zone.identifier)), ("every_ms", .null)]
        case .every(let interval, _):
            fields += [("cron", .null), ("tz", .null), ("every_ms", .int(interval.jobqMilliseconds))]
        }
        fields += [
            ("spec", .string(schedule.specText)),
            ("definition", .string(schedule.submission.run.definition)),
            ("tasks", .int(schedule.submission.tasks.count)),
            ("overlap", .string(schedule.overlap.rawValue)),
            ("catch_up", .string(schedule.catchUp.rawValue)),
            ("paused", .bool(schedule.paused)),
            ("next_fire_ms", schedule.nextFire.map { .int($0) } ?? .null),
            ("next_fire", schedule.nextFire.map { .string(iso($0)) } ?? .null),
            ("next_fire_in_ms", schedule.nextFire.flatMap { next in now.map { .int(next - $0) } } ?? .null),
            ("last_run", .optional(schedule.lastRun)),
            ("last_run_state", .optional(schedule.lastRunState?.rawValue)),
            ("last_tick_ms", schedule.lastTick.map { .int($0) } ?? .null),
            ("last_outcome", .optional(schedule.lastOutcome)),
            ("buffered_tick_ms", schedule.buffered.map { .int($0) } ?? .null),
            ("counts", .object(schedule.counts.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
        ]
        return .object(fields)
    }

    package static func iso(_ ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
