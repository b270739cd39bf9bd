import Foundation

/// A schedule as stored (`sched:<name>`): when it fires, what it submits then, its policies and
/// where it stands (docs/flow-control.md, "Schedules").
public struct Schedule: Sendable, Hashable {
    /// What a tick does while the schedule's previous run is still going (docs/flow-control.md).
    public enum Overlap: String, Sendable, Hashable, CaseIterable {
        /// Record the tick as skipped; submit nothing (the default).
        case skip
        /// Submit anyway: runs overlap.
        case allow
        /// Cancel the previous run (the ordinary run cancellation), then submit.
        case cancel
        /// Keep one tick waiting (the latest) and submit it once the previous run has ended.
        case buffer
    }

    /// What a schedule does about ticks that passed while no maintenance pass ran (every
    /// worker and `jobq coordinator` down).
    public enum CatchUp: String, Sendable, Hashable, CaseIterable {
        /// Fire none of them; a tick is "on time" (fired) when it is at most
        /// ``Schedule/onTimeGrace`` late.
        case none
        /// Fire the most recent one once (the default).
        case latest
        /// Fire each of them, oldest first, at most ``Schedule/maxCatchUp``: the most recent ones.
        case all
    }

    /// How late a tick may be and still fire under catch-up `none` (or two maintenance
    /// intervals, when that is longer): a pass runs about once per interval, so a tick is
    /// normally a second or so late.
    public static let onTimeGrace: Duration = .seconds(60)
    /// The most missed ticks catch-up `all` fires.
    public static let maxCatchUp = 100
    /// Schedule names are names (``Validation``) of at most this many bytes, so that a tick's
    /// run id (`NAME-20261207T020000Z`) is a name too.
    public static let maxNameLength = 100

    public var name: String
    public var timing: ScheduleTiming
    public var submission: ScheduledSubmission
    public var overlap: Overlap
    public var catchUp: CatchUp
    /// Paused schedules keep their record but are not in the index: no tick fires.
    public var paused: Bool
    /// The next tick (ms), or `nil` while paused.
    public var nextFire: Int64?
    /// The last run it submitted (a tick's or a trigger's).
    public var lastRun: String?
    /// The state of ``lastRun`` when the schedule was read by a listing (`nil`: none yet,
    /// not read, or its retention expired).
    public var lastRunState: RunState?
    /// The last tick decided (ms), and what became of it (`fired`, `skip`, `missed`,
    /// `triggered`).
    public var lastTick: Int64?
    public var lastOutcome: String?
    /// Ticks fired, skipped (overlap), missed (catch-up), and triggers, since it was added.
    public var counts: [String: Int]
    public var created: Int64?

    /// Throws `invalid_name` unless `name` is a name of at most ``maxNameLength`` bytes.
    public static func validate(name: String) throws(JobqError) {
        try Validation.check(name: name, as: .schedule)
        guard name.utf8.count <= maxNameLength else {
            throw JobqError(.invalidName, "schedule name is \(name.utf8.count) bytes; at most \(maxNameLength) allowed (its runs are named after it)", subject: name)
        }
    }

    /// The run id of tick `tick` (ms): `NAME-20261207T020000Z` (`…T020000.250Z` off the second),
    /// the same in every process, so a second submission of the tick finds the first.
    public static func runID(name: String, tick: Int64) -> String {
        let seconds = tick >= 0 ? tick / 1000 : (tick - 999) / 1000
        let millis = tick - seconds * 1000
        let (year, month, day) = ScheduleTiming.civil(fromDays: seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let second = ((seconds % 86_400) + 86_400) % 86_400
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var text = "\(name)-\(year)\(two(Int64(month)))\(two(Int64(day)))T\(two(second / 3600))\(two(second / 60 % 60))\(two(second % 60))"
        if millis != 0 { text += "." + String(String(millis + 1000).dropFirst()) }
        return text + "Z"
    }

    /// The stored fields of a new record (``ScheduleCall``'s `add`), besides `next` and `created`.
    package var recordFields: [(String, String)] {
        var fields: [(String, String)] = [
            ("def", submission.run.definition), ("sub", submission.encoded),
            ("overlap", overlap.rawValue), ("catch_up", catchUp.rawValue),
        ]
        switch timing {
        case .cron(let expression, let zone):
            fields += [("cron", expression.text), ("tz", zone.identifier)]
        case .every(let interval, let anchor):
            fields += [("every", String(interval.jobqMilliseconds)), ("anchor", String(anchor))]
        }
        return fields
    }

    /// Decodes a record's fields; throws `corrupt_record` when they do not make a schedule.
    package init(name: String, fields: [String: String]) throws(JobqError) {
        func corrupt(_ what: String) -> JobqError {
            JobqError(.corruptRecord, "schedule \(name): \(what)", subject: name)
        }
        self.name = name
        if let cron = fields["cron"] {
            do {
                timing = .cron(try CronExpression(cron), zone: TimeZone(identifier: fields["tz"] ?? "UTC") ?? TimeZone(identifier: "UTC")!)
            } catch {
                throw corrupt("its cron \"\(cron)\" does not parse")
            }
        } else if let every = fields["every"].flatMap(Int64.init), let anchor = fields["anchor"].flatMap(Int64.init) {
            timing = .every(.milliseconds(every), anchor: anchor)
        } else {
            throw corrupt("neither cron nor every")
        }
        guard let sub = fields["sub"] else { throw corrupt("no submission") }
        submission = try ScheduledSubmission(encoded: sub, schedule: name)
        overlap = fields["overlap"].flatMap(Overlap.init(rawValue:)) ?? .skip
        catchUp = fields["catch_up"].flatMap(CatchUp.init(rawValue:)) ?? .latest
        paused = fields["paused"] != nil
        nextFire = paused ? nil : fields["next"].flatMap(Int64.init)
        lastRun = fields["last_run"]
        lastTick = fields["last_tick"].flatMap(Int64.init)
        lastOutcome = fields["last_outcome"]
        created = fields["created"].flatMap(Int64.init)
        var counts: [String: Int] = [:]
        for (field, value) in fields where field.hasPrefix("n_") { counts[String(field.dropFirst(2))] = Int(value) }
        self.counts = counts
        firing = fields["firing"]
        buffered = fields["buffered"].flatMap(Int64.init)
    }

    /// `"TICK DECISION"` while a tick is claimed and not yet advanced (a process may have died
    /// between the two: the next pass follows the decision).
    package var firing: String?
    /// Overlap `buffer`: the tick waiting for the previous run to end.
    public var buffered: Int64?

    package init(name: String, timing: ScheduleTiming, submission: ScheduledSubmission, overlap: Overlap, catchUp: CatchUp) {
        self.name = name
        self.timing = timing
        self.submission = submission
        self.overlap = overlap
        self.catchUp = catchUp
        paused = false
        counts = [:]
    }

    /// `cron 0 2 * * * Europe/Paris` or `every 1m30s`, for listings.
    public var specText: String {
        switch timing {
        case .cron(let expression, _): "cron \(expression.text)"
        case .every(let interval, _): "every \(DurationText.format(interval))"
        }
    }

    /// The time zone of a cron schedule (`nil` for an interval).
    public var timeZone: String? {
        if case .cron(_, let zone) = timing { return zone.identifier }
        return nil
    }
}
