import Foundation

/// A cron expression, parsed: which seconds, minutes, hours, days of the month, months and days
/// of the week fire (docs/flow-control.md, "Schedules").
///
/// Five fields (`min hour dom month dow`, second 0) or six (`sec min hour dom month dow`);
/// `@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly` (`@annually`); lists,
/// ranges, steps (`*/15`, `1-30/2`, `5/10`), month and weekday names (`jan`, `mon-fri`), day of
/// week 0–7 (0 and 7 are Sunday). Day of month and day of week combine as in Vixie cron: when
/// both are restricted (neither starts with `*`) a day matching either fires; otherwise both must
/// match. Pure value: fire times in a time zone are ``CronExpression/nextFire(after:in:)``'s work.
public struct CronExpression: Sendable, Hashable {
    /// The text as given (kept for listings: `jobq schedules` shows what the user wrote).
    public let text: String
    let seconds: [Int]
    let minutes: [Int]
    let hours: [Int]
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    /// 0 = Sunday … 6 = Saturday (7 folded into 0).
    let daysOfWeek: Set<Int>
    /// Vixie cron's `DOM_STAR`/`DOW_STAR`: the field starts with `*`, so it does not restrict
    /// the day on its own (the OR rule applies only when neither does).
    let dayOfMonthStar: Bool
    let dayOfWeekStar: Bool

    private static let nicknames: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let weekdayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Parses `text`; throws `invalid_schedule` naming the field that is wrong.
    public init(_ text: String) throws(JobqError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded = Self.nicknames[trimmed.lowercased()] ?? trimmed
        if expanded.hasPrefix("@") {
            throw JobqError(.invalidSchedule, "cron \"\(text)\": unknown name \(expanded); use @hourly, @daily, @weekly, @monthly or @yearly")
        }
        var fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { String($0).lowercased() }
        guard fields.count == 5 || fields.count == 6 else {
            throw JobqError(.invalidSchedule, "cron \"\(text)\" has \(fields.count) fields; give 5 (minute hour day-of-month month day-of-week) or 6 (a second first)")
        }
        if fields.count == 5 { fields.insert("0", at: 0) }
        self.text = trimmed
        seconds = try Self.field(fields[0], "second", 0...59, text: text).sorted()
        minutes = try Self.field(fields[1], "minute", 0...59, text: text).sorted()
        hours = try Self.field(fields[2], "hour", 0...23, text: text).sorted()
        daysOfMonth = try Self.field(fields[3], "day of month", 1...31, text: text)
        months = try Self.field(fields[4], "month", 1...12, names: Self.monthNames, nameBase: 1, text: text)
        daysOfWeek = Set(try Self.field(fields[5], "day of week", 0...7, names: Self.weekdayNames, nameBase: 0, text: text).map { $0 % 7 })
        dayOfMonthStar = fields[3].hasPrefix("*") || fields[3] == "?"
        dayOfWeekStar = fields[5].hasPrefix("*") || fields[5] == "?"
    }

    /// Whether the calendar day fires (month, and day of month / day of week by the OR rule).
    func matches(month: Int, day: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        let domOK = daysOfMonth.contains(day), dowOK = daysOfWeek.contains(weekday)
        if dayOfMonthStar || dayOfWeekStar { return domOK && dowOK }
        return domOK || dowOK
    }

    /// One field: a comma-separated list of `*`, `N`, `A-B`, each optionally `/STEP`.
    private static func field(_ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String] = [], nameBase: Int = 0, text whole: String) throws(JobqError) -> Set<Int> {
        func bad(_ why: String) -> JobqError {
            JobqError(.invalidSchedule, "cron \"\(whole)\": \(name) field \"\(text)\" \(why)")
        }
        func value(_ part: Substring) throws(JobqError) -> Int {
            if let index = names.firstIndex(of: String(part)) { return index + nameBase }
            guard let number = Int(part), range.contains(number) else {
                throw bad("has \"\(part)\": use \(range.lowerBound)–\(range.upperBound)\(names.isEmpty ? "" : " or a name such as \(names[0])")")
            }
            return number
        }
        if text == "?" && (name == "day of month" || name == "day of week") { return Set(range) }
        var result = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, let base = pieces.first, !base.isEmpty else { throw bad("is not a list of values, ranges and steps") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed >= 1, parsed <= range.upperBound else { throw bad("has step \"\(pieces[1])\": use 1–\(range.upperBound)") }
                step = parsed
            }
            var low = range.lowerBound, high = range.upperBound
            if base != "*" {
                let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2, bounds.allSatisfy({ !$0.isEmpty }) else { throw bad("has \"\(base)\", not a value or a range A-B") }
                low = try value(bounds[0])
                // `5/10` is 5, 15, 25, …: a start with a step runs to the end of the range.
                high = bounds.count == 2 ? try value(bounds[1]) : (pieces.count == 2 ? range.upperBound : low)
                guard low <= high else { throw bad("has the range \(base), which runs backwards") }
            }
            result.formUnion(stride(from: low, through: high, by: step))
        }
        return result
    }
}
