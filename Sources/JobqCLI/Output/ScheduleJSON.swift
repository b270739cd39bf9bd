import Foundation
import JobqCore

/// The local and relative times of `jobq schedules` and `jobq schedule add`, beside the JSON
/// object (JobqCore's ScheduleJSON).
extension ScheduleJSON {
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
