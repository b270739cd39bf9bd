import Foundation
import Jobq
import JobqCore

/// How `jobq schedules` and `jobq schedule add` show a schedule: the JSON object (stable
/// snake_case fields, times in ms and ISO 8601 UTC) and the local and relative times of the table.
enum ScheduleJSON {
    static func object(_ schedule: Schedule, now: Int64?) -> JSONValue {
        var fields: [(String, JSONValue)] = [("name", .string(schedule.name))]
        switch schedule.timing {
        case .cron(let expression, let zone):
            fields += [("cron", .string(expression.text)), ("tz", .string(zone.identifier)), ("every_ms", .null)]
        case .every(let interval, _):
            fields += [("cron", .null), ("tz", .null), ("every_ms", .int(interval.inMilliseconds))]
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

    static func iso(_ ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// The time on the schedule's own clock (its zone for cron, UTC for intervals), with its
    /// offset: what `schedule add` reports.
    static func zonedTime(_ ms: Int64, _ schedule: Schedule) -> String {
        format(ms, "yyyy-MM-dd HH:mm:ss xxx", zone: schedule.timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!)
    }

    /// `12-08 02:30:00` on this machine's clock: the NEXT column of `jobq schedules`.
    static func localTime(_ ms: Int64) -> String {
        format(ms, "MM-dd HH:mm:ss", zone: .current)
    }

    private static func format(_ ms: Int64, _ pattern: String, zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = pattern
        formatter.timeZone = zone
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// `in 5m`, `3s ago`.
    static func relative(_ ms: Int64, now: Int64) -> String {
        ms >= now ? "in " + DurationText.format(milliseconds: ms - now) : DurationText.format(milliseconds: now - ms) + " ago"
    }
}
