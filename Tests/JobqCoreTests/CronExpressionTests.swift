import Foundation
import Testing

@testable import JobqCore

/// The cron grammar and fire times, without Redis: names, lists, ranges, steps, the 6-field
/// form, Vixie's day-of-month/day-of-week OR rule, and the DST days of Europe/Paris.
@Suite("schedules: cron and fire times")
struct CronExpressionTests {
    /// Milliseconds of an ISO 8601 UTC time.
    static func ms(_ text: String) -> Int64 {
        Int64(ISO8601DateFormatter().date(from: text)!.timeIntervalSince1970 * 1000)
    }

    static func iso(_ ms: Int64?) -> String {
        guard let ms else { return "none" }
        return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// The next `count` fire times after `start`, as ISO 8601 UTC.
    static func fires(_ cron: String, tz: String? = nil, after start: String, count: Int = 1) throws -> [String] {
        let timing = try ScheduleTiming.cron(cron, timeZone: tz, now: ms(start))
        var cursor = ms(start)
        var out: [String] = []
        for _ in 0..<count {
            guard let next = timing.nextFire(after: cursor) else { out.append("none"); break }
            out.append(iso(next))
            cursor = next
        }
        return out
    }

    @Test func namesExpand() throws {
        #expect(try Self.fires("@hourly", after: "2026-12-07T10:15:00Z") == ["2026-12-07T11:00:00Z"])
        #expect(try Self.fires("@daily", after: "2026-12-07T10:15:00Z") == ["2026-12-08T00:00:00Z"])
        #expect(try Self.fires("@midnight", after: "2026-12-07T10:15:00Z") == ["2026-12-08T00:00:00Z"])
        #expect(try Self.fires("@weekly", after: "2026-12-07T10:15:00Z") == ["2026-12-13T00:00:00Z"])  // a Sunday
        #expect(try Self.fires("@monthly", after: "2026-12-07T10:15:00Z") == ["2027-01-01T00:00:00Z"])
        #expect(try Self.fires("@yearly", after: "2026-12-07T10:15:00Z") == ["2027-01-01T00:00:00Z"])
        #expect(try Self.fires("@annually", after: "2027-01-01T00:00:00Z") == ["2028-01-01T00:00:00Z"])
    }

    @Test func listsRangesStepsAndNames() throws {
        #expect(try Self.fires("*/15 * * * *", after: "2026-12-07T10:07:00Z", count: 3) == ["2026-12-07T10:15:00Z", "2026-12-07T10:30:00Z", "2026-12-07T10:45:00Z"])
        #expect(try Self.fires("5/20 * * * *", after: "2026-12-07T10:00:00Z", count: 3) == ["2026-12-07T10:05:00Z", "2026-12-07T10:25:00Z", "2026-12-07T10:45:00Z"])
        #expect(try Self.fires("0 9-17/4 * * *", after: "2026-12-07T00:00:00Z", count: 3) == ["2026-12-07T09:00:00Z", "2026-12-07T13:00:00Z", "2026-12-07T17:00:00Z"])
        #expect(try Self.fires("0 8 * * mon-fri", after: "2026-12-11T09:00:00Z", count: 2) == ["2026-12-14T08:00:00Z", "2026-12-15T08:00:00Z"])  // Fri → Mon
        #expect(try Self.fires("0 0 1 jan,jul *", after: "2026-12-07T00:00:00Z", count: 2) == ["2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"])
        #expect(try Self.fires("0 0 * * 7", after: "2026-12-07T00:00:00Z") == ["2026-12-13T00:00:00Z"])  // 7 is Sunday too
        #expect(try Self.fires("0,30 12 * * SUN", after: "2026-12-13T12:10:00Z", count: 2) == ["2026-12-13T12:30:00Z", "2026-12-20T12:00:00Z"])
    }

    @Test func sixFieldsStartWithSeconds() throws {
        #expect(try Self.fires("*/10 * * * * *", after: "2026-12-07T10:00:05Z", count: 2) == ["2026-12-07T10:00:10Z", "2026-12-07T10:00:20Z"])
        #expect(try Self.fires("30 0 12 * * *", after: "2026-12-07T00:00:00Z") == ["2026-12-07T12:00:30Z"])
        // a fire time strictly after a time with milliseconds
        let timing = try ScheduleTiming.cron("* * * * * *", now: 0)
        #expect(timing.nextFire(after: Self.ms("2026-12-07T10:00:05Z") + 500) == Self.ms("2026-12-07T10:00:06Z"))
    }

    /// Vixie cron: both day fields restricted → either matches; one of them `*` → both must.
    @Test func dayOfMonthAndDayOfWeekOrRule() throws {
        // the 13th, or any Friday: 2026-12-11 is a Friday, then the 13th (a Sunday), then Fri 18th
        #expect(try Self.fires("0 0 13 * fri", after: "2026-12-07T00:00:00Z", count: 3) == ["2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z", "2026-12-18T00:00:00Z"])
        // day of week `*`: only the 13th
        #expect(try Self.fires("0 0 13 * *", after: "2026-12-07T00:00:00Z") == ["2026-12-13T00:00:00Z"])
        // day of month `*/1` starts with `*`: AND, so Fridays only
        #expect(try Self.fires("0 0 */1 * fri", after: "2026-12-07T00:00:00Z") == ["2026-12-11T00:00:00Z"])
    }

    /// Spring forward in Paris, 2026-03-29: 02:00 CET becomes 03:00 CEST. 02:30 does not exist
    /// that day: it fires once, at 03:00 CEST (01:00Z), as in Vixie cron.
    @Test func springForwardFiresTheMissingTimeAtTheEndOfTheGap() throws {
        #expect(try Self.fires("30 2 * * *", tz: "Europe/Paris", after: "2026-03-27T12:00:00Z", count: 3)
            == ["2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
        // every half hour across the gap: 01:30 CET, then 03:00 CEST once (02:00, 02:30 and 03:00 are one instant)
        #expect(try Self.fires("*/30 * * * *", tz: "Europe/Paris", after: "2026-03-29T00:15:00Z", count: 3)
            == ["2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z"])
    }

    /// Fall back in Paris, 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:00–02:59 happens
    /// twice. 02:30 fires once, at its first occurrence (CEST, 00:30Z).
    @Test func fallBackFiresARepeatedTimeOnce() throws {
        #expect(try Self.fires("30 2 * * *", tz: "Europe/Paris", after: "2026-10-24T12:00:00Z", count: 2)
            == ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"])
        // hourly: 02:00 CEST (00:00Z), then 03:00 CET (02:00Z); the second 02:00 is not fired again
        #expect(try Self.fires("0 * * * *", tz: "Europe/Paris", after: "2026-10-24T23:30:00Z", count: 3)
            == ["2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"])
        // asked during the second 02:xx, the 02:30 of that day is behind
        #expect(try Self.fires("30 2 * * *", tz: "Europe/Paris", after: "2026-10-25T01:10:00Z") == ["2026-10-26T01:30:00Z"])
    }

    @Test func localTimeInAZone() throws {
        #expect(try Self.fires("0 2 * * *", tz: "Europe/Paris", after: "2026-12-07T00:00:00Z") == ["2026-12-07T01:00:00Z"])
        #expect(try Self.fires("0 2 * * *", tz: "America/New_York", after: "2026-12-07T00:00:00Z") == ["2026-12-07T07:00:00Z"])
    }

    @Test func neverFiringAndMalformedExpressionsAreRefused() throws {
        for bad in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "61 * * * *", "* * *", "* * * * * * *", "@often", "5-1 * * * *",
                    "*/0 * * * *", "0 0 32 * *", "0 0 * 13 *", "0 0 * * 8", "x * * * *", "1,,2 * * * *", "0 0 * foo *"] {
            let error = #expect(throws: JobqError.self, "\(bad)") { _ = try ScheduleTiming.cron(bad, now: Self.ms("2026-12-07T00:00:00Z")) }
            #expect(error?.code == .invalidSchedule, "\(bad)")
        }
        // a leap day fires (within four years)
        #expect(try Self.fires("0 0 29 2 *", after: "2026-12-07T00:00:00Z") == ["2028-02-29T00:00:00Z"])
    }

    @Test func unknownTimeZonesAndShortIntervalsAreRefused() throws {
        let zone = #expect(throws: JobqError.self) { _ = try ScheduleTiming.cron("@daily", timeZone: "Mars/Olympus", now: 0) }
        #expect(zone?.code == .invalidSchedule)
        for interval: Duration in [.zero, .milliseconds(999)] {
            let error = #expect(throws: JobqError.self) { _ = try ScheduleTiming.interval(interval, anchor: 0) }
            #expect(error?.code == .invalidSchedule)
        }
        #expect(try ScheduleTiming.interval(.seconds(1), anchor: 0).nextFire(after: 0) == 1000)
    }

    @Test func intervalsCountFromTheirAnchor() throws {
        let timing = try ScheduleTiming.interval(.seconds(90), anchor: 1_000_000)
        #expect(timing.nextFire(after: 1_000_000) == 1_090_000)
        #expect(timing.nextFire(after: 1_089_999) == 1_090_000)
        #expect(timing.nextFire(after: 1_090_000) == 1_180_000)
        #expect(timing.lastFires(after: 1_000_000, through: 1_400_000, count: 2) == [1_270_000, 1_360_000])
    }

    @Test func lastFiresLooksBackBoundedly() throws {
        let start = Self.ms("2026-12-07T00:00:00Z")
        let perSecond = try ScheduleTiming.cron("* * * * * *", now: start)
        let last = perSecond.lastFires(after: start, through: start + 86_400_000, count: 3)
        #expect(last == [start + 86_398_000, start + 86_399_000, start + 86_400_000])
        let hourly = try ScheduleTiming.cron("@hourly", now: start)
        #expect(hourly.lastFires(after: start - 1, through: start + 3_600_000 * 5 + 10, count: 100).count == 6)
    }

    @Test func runIDsNameTheTick() {
        #expect(Schedule.runID(name: "nightly", tick: Self.ms("2026-12-07T02:00:00Z")) == "nightly-20261207T020000Z")
        #expect(Schedule.runID(name: "n", tick: Self.ms("2026-12-07T02:00:00Z") + 250) == "n-20261207T020000.250Z")
    }
}
