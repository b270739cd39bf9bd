import JobqRedis

/// Schedules, the producer's side: add, list, pause, resume, remove, trigger. Firing their ticks
/// is the maintenance pass's work (`Maintenance+Schedules.swift`).
extension TaskStore {
    /// Stores a schedule; its first tick is the first fire time after now (Redis time).
    /// Everything is checked before anything is written: the name, the timing (`invalid_schedule`),
    /// the submission (as a submit would check it); a name that exists is `schedule_exists`
    /// unless `replace` (the new record starts afresh: next fire, last run and counts).
    package func addSchedule(
        _ name: String, rule: Schedule.Rule, submission: ScheduledSubmission,
        overlap: Schedule.Overlap = .skip, catchUp: Schedule.CatchUp = .latest, replace: Bool = false
    ) async throws(JobqError) -> Schedule {
        try Schedule.validate(name: name)
        try submission.validate(limits: runner.limits)
        let now = try await runner.now()
        let timing = try rule.timing(now: now)
        guard let next = timing.nextFire(after: now) else {
            throw JobqError(.invalidSchedule, "schedule \(name) never fires", subject: name)
        }
        var schedule = Schedule(name: name, timing: timing, submission: submission, overlap: overlap, catchUp: catchUp)
        _ = try await runner.run(ScheduleCall(name: name, action: .add(fields: schedule.recordFields, next: next, replace: replace)))
        schedule.nextFire = next
        schedule.created = now
        return schedule
    }

    /// Every schedule (paused ones too), by next fire time, each with the state of its last run
    /// (`nil`: none yet, or its retention expired). At most `limit`.
    package func schedules(limit: Int = 1000) async throws(JobqError) -> [Schedule] {
        let names = try await runner.send(
            RedisCommand("ZRANGE", [RedisArgument(runner.keys.schedules), "0", RedisArgument(limit - 1)]), doing: "list schedules"
        ).array?.compactMap(\.string) ?? []
        let records = try await runner.pipeline(
            names.map { RedisCommand("HGETALL", [RedisArgument(runner.keys.schedule($0))]) }, doing: "read schedules"
        )
        var schedules: [Schedule] = []
        for (name, record) in zip(names, records) {
            let fields = ScriptRunner.hash(record).mapValues { String(decoding: $0, as: UTF8.self) }
            if fields.isEmpty { continue }  // removed meanwhile
            schedules.append(try Schedule(name: name, fields: fields))
        }
        let states = try await runner.pipeline(
            schedules.map { RedisCommand("HGET", [RedisArgument(runner.keys.workflow($0.lastRun ?? "-")), "state"]) }, doing: "read schedules' runs"
        )
        for index in schedules.indices where schedules[index].lastRun != nil {
            schedules[index].lastRunState = states[index].string.flatMap(RunState.init(rawValue:))
        }
        return schedules
    }

    /// One schedule, or `nil`.
    package func schedule(_ name: String) async throws(JobqError) -> Schedule? {
        try Schedule.validate(name: name)
        let record = try await runner.send(RedisCommand("HGETALL", [RedisArgument(runner.keys.schedule(name))]), doing: "read schedule")
        let fields = ScriptRunner.hash(record).mapValues { String(decoding: $0, as: UTF8.self) }
        return fields.isEmpty ? nil : try Schedule(name: name, fields: fields)
    }

    /// Stops firing ticks (the record stays). Returns `false` when it was paused already;
    /// throws `not_found`.
    @discardableResult
    package func pauseSchedule(_ name: String) async throws(JobqError) -> Bool {
        try Schedule.validate(name: name)
        return try await runner.run(ScheduleCall(name: name, action: .pause)) != .unchanged
    }

    /// Fires again from the next tick after now: ticks that passed while paused are not owed.
    /// Returns `false` when it was not paused; throws `not_found`.
    @discardableResult
    package func resumeSchedule(_ name: String) async throws(JobqError) -> Bool {
        guard let schedule = try await schedule(name) else { throw JobqError(.notFound, "no schedule \(name)", subject: name) }
        let now = try await runner.now()
        let next = schedule.timing.nextFire(after: now) ?? Schedule.never
        return try await runner.run(ScheduleCall(name: name, action: .resume(next: next))) != .unchanged
    }

    /// Deletes the schedule (its runs stay); throws `not_found`.
    package func removeSchedule(_ name: String) async throws(JobqError) {
        try Schedule.validate(name: name)
        _ = try await runner.run(ScheduleCall(name: name, action: .remove))
    }

    /// Submits the schedule's run now, outside its ticks, with a run id of its own (the ticks
    /// are unchanged); paused schedules too. Throws `not_found`.
    package func triggerSchedule(_ name: String) async throws(JobqError) -> SubmitResult {
        guard let schedule = try await schedule(name) else { throw JobqError(.notFound, "no schedule \(name)", subject: name) }
        var options = schedule.submission.run
        options.id = RunScope.generateID(definition: name)
        let result = try await submit(schedule.submission.tasks, run: options)
        _ = try await runner.run(ScheduleCall(name: name, action: .triggered(run: result.run ?? options.id ?? "")))
        return result
    }
}

extension Schedule {
    /// How a schedule is asked to fire, before it is checked and anchored.
    public enum Rule: Sendable, Hashable {
        /// A cron expression (5 or 6 fields, or `@daily`…) in a tz database zone (UTC when `nil`).
        case cron(String, timeZone: String? = nil)
        /// Every interval (at least 1 s): the multiples of it since the epoch (`1h` fires on the
        /// hour, UTC), so the ticks do not depend on when it was added or replaced.
        case every(Duration)

        /// The checked timing; throws `invalid_schedule`.
        public func timing(now: Int64) throws(JobqError) -> ScheduleTiming {
            switch self {
            case .cron(let text, let zone): try ScheduleTiming.cron(text, timeZone: zone, now: now)
            case .every(let interval): try ScheduleTiming.interval(interval, anchor: 0)
            }
        }
    }

    /// The next fire time stored when there is none within the horizon (a cron whose last
    /// matching day passed): far enough never to be due.
    static let never: Int64 = 253_402_300_799_000  // 9999-12-31T23:59:59Z
}
