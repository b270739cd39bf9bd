import Foundation

/// When a schedule fires: a cron expression read on the wall clock of a time zone, or a fixed
/// interval. Times are milliseconds since the epoch, as on Redis's clock.
///
/// Computed in Swift (cron in a time zone is not Lua work); the scripts only compare and store
/// the times this gives them.
public enum ScheduleTiming: Sendable, Hashable {
    /// `zone` is a system tz database identifier (`Europe/Paris`), UTC by default.
    case cron(CronExpression, zone: TimeZone)
    /// Every `interval` from `anchor` (ms; schedules use 0, the epoch), so the ticks of all
    /// processes agree without a leader.
    case every(Duration, anchor: Int64)

    /// The shortest interval accepted: a schedule fires through the maintenance pass, which
    /// does not run more often than that.
    public static let minimumInterval: Duration = .seconds(1)
    /// How far ahead a cron expression must fire at least once (`0 0 30 2 *` never does; a
    /// leap-day schedule fires within 8 years).
    static let horizonDays = 366 * 9

    /// A cron expression in a time zone; throws `invalid_schedule` for an unknown zone or an
    /// expression that never fires.
    public static func cron(_ text: String, timeZone identifier: String? = nil, now: Int64) throws(JobqError) -> ScheduleTiming {
        let expression = try CronExpression(text)
        let zone: TimeZone
        if let identifier {
            guard let known = TimeZone(identifier: identifier), TimeZone.knownTimeZoneIdentifiers.contains(identifier) || identifier == "UTC" || identifier == "GMT" else {
                throw JobqError(.invalidSchedule, "unknown time zone \"\(identifier)\"; use a tz database name such as Europe/Paris or UTC")
            }
            zone = known
        } else {
            zone = TimeZone(identifier: "UTC")!
        }
        let timing = ScheduleTiming.cron(expression, zone: zone)
        guard timing.nextFire(after: now) != nil else {
            throw JobqError(.invalidSchedule, "cron \"\(text)\" never fires (no matching day within \(horizonDays / 366) years)")
        }
        return timing
    }

    /// An interval; throws `invalid_schedule` below ``minimumInterval``.
    public static func interval(_ interval: Duration, anchor: Int64) throws(JobqError) -> ScheduleTiming {
        guard interval >= minimumInterval else {
            throw JobqError(.invalidSchedule, "--every must be at least \(DurationText.format(minimumInterval)); got \(DurationText.format(interval))")
        }
        return .every(interval, anchor: anchor)
    }

    /// The first fire time strictly after `time` (ms), or `nil` when there is none within the
    /// horizon.
    ///
    /// Cron fire times are wall-clock times in the zone, each firing once: on a spring-forward
    /// day a time that does not exist (02:30 in Europe/Paris) fires at the first instant after
    /// the gap (03:00), as Vixie cron does; on a fall-back day a time that occurs twice fires at
    /// its first occurrence only.
    public func nextFire(after time: Int64) -> Int64? {
        switch self {
        case .every(let interval, let anchor):
            let step = max(1, interval.jobqMilliseconds)
            if time < anchor { return anchor }
            return anchor + ((time - anchor) / step + 1) * step
        case .cron(let expression, let zone):
            return Self.nextCron(expression, zone: zone, after: time)
        }
    }

    /// The last `count` fire times in `(after, through]`, oldest first: the ticks a schedule
    /// missed while nothing ran its maintenance. Looks back in widening windows from `through`,
    /// so an hour of per-second ticks costs what the kept ones cost, not a walk from `after`.
    public func lastFires(after: Int64, through: Int64, count: Int) -> [Int64] {
        guard count > 0, through > after else { return [] }
        if case .every(let interval, let anchor) = self {
            let step = max(1, interval.jobqMilliseconds)
            guard through >= anchor else { return [] }
            var last = anchor + (through - anchor) / step * step
            var fires: [Int64] = []
            while last > after && last >= anchor && fires.count < count {
                fires.append(last)
                last -= step
            }
            return fires.reversed()
        }
        var window: Int64 = 10_000
        while true {
            let start = max(after, through - window)
            var fires: [Int64] = []
            var cursor = start
            while let next = nextFire(after: cursor), next <= through {
                fires.append(next)
                if fires.count > count { fires.removeFirst(fires.count - count) }
                cursor = next
            }
            if fires.count >= count || start == after { return fires }
            window *= 10
        }
    }

    // MARK: Cron on a wall clock

    private static func nextCron(_ cron: CronExpression, zone: TimeZone, after time: Int64) -> Int64? {
        let afterSeconds = time >= 0 ? time / 1000 : (time - 999) / 1000
        let local = afterSeconds + Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(afterSeconds))))
        let firstDay = floorDiv(local, 86_400)
        let smallestOffset = [afterSeconds - 86_400, afterSeconds + 86_400].reduce(local - afterSeconds) {
            min($0, Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double($1)))))
        }
        for day in firstDay...(firstDay + Int64(horizonDays)) {
            let (_, month, dayOfMonth) = civil(fromDays: day)
            let weekday = Int((day % 7 + 7 + 4) % 7)  // 1970-01-01 was a Thursday
            guard cron.matches(month: month, day: dayOfMonth, weekday: weekday) else { continue }
            // A wall-clock time w names an instant w - offset; it is surely not after `time`
            // when even the smallest offset around makes it so (the repeated hour included).
            let skipBefore = day == firstDay ? afterSeconds + 1 + smallestOffset : Int64.min
            for hour in cron.hours {
                let hourStart = day * 86_400 + Int64(hour) * 3600
                if hourStart + 3599 < skipBefore { continue }
                for minute in cron.minutes {
                    let minuteStart = hourStart + Int64(minute) * 60
                    if minuteStart + 59 < skipBefore { continue }
                    for second in cron.seconds {
                        let wall = minuteStart + Int64(second)
                        if wall < skipBefore { continue }
                        let instant = instant(ofWallClock: wall, in: zone)
                        if instant * 1000 > time { return instant * 1000 }
                    }
                }
            }
        }
        return nil
    }

    /// The instant (s) a wall-clock time (s, read as if UTC) names in `zone`: its first
    /// occurrence when it occurs twice, the end of the gap when it does not occur.
    static func instant(ofWallClock wall: Int64, in zone: TimeZone) -> Int64 {
        func offset(_ instant: Int64) -> Int64 { Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant)))) }
        let before = offset(wall - 86_400), after = offset(wall + 86_400)
        let candidates = [wall - max(before, after), wall - min(before, after)]
        if let first = candidates.first(where: { $0 + offset($0) == wall }) { return first }
        // In a gap: the transition itself, the first wall-clock time after it.
        let probe = Date(timeIntervalSince1970: Double(wall - before - 86_400))
        if let transition = zone.nextDaylightSavingTimeTransition(after: probe) {
            return Int64(transition.timeIntervalSince1970.rounded(.down))
        }
        return wall - before
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }

    /// (year, month 1–12, day 1–31) of a count of days since 1970-01-01 (H. Hinnant's algorithm).
    static func civil(fromDays days: Int64) -> (Int64, Int, Int) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
