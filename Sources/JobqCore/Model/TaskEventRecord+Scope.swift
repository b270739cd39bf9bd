/// What a stream line concerns (a task, a run, a schedule) and its JSON form: shared by
/// `jobq events` and the dashboard's live feed, so both say the same about the same line.
extension TaskEventRecord {
    /// A run-level line (`@RUN FROM TO 0 reason`), not a task's, a schedule's or a queue's.
    package var isRunLine: Bool { task.hasPrefix("@") && schedule == nil && pausedQueue == nil }

    /// A task's own line (`ID FROM TO attempt reason`).
    package var isTaskLine: Bool { !task.hasPrefix("@") }

    /// The queue of a queue line (`@queue:NAME - paused|resumed 0 paused|resumed`, queue.lua,
    /// written when an operator names themselves), `nil` for any other line.
    package var pausedQueue: String? { task.hasPrefix("@queue:") ? String(task.dropFirst("@queue:".count)) : nil }

    /// The schedule of a schedule line (`@sched:NAME - WHAT 0 WHAT[:RUN|TICK]`, schedule.lua),
    /// `nil` for any other line.
    package var schedule: String? { task.hasPrefix("@sched:") ? String(task.dropFirst("@sched:".count)) : nil }

    /// The run the line belongs to: the run of a run-level line, or of a task `RUN/KEY`; `nil`
    /// for a standalone task and a schedule line.
    package var run: String? {
        if schedule != nil || pausedQueue != nil { return nil }
        return isRunLine ? String(task.dropFirst()) : RunScope.run(of: task)
    }

    /// `{"stream_id", "time", "task", "run", "key", "schedule", "from", "to", "attempt",
    /// "reason"}`; a run-level line has `task` and `key` null, a standalone task `run` and `key`
    /// null, a creation `from` null; a schedule line has only `schedule` and `reason` (`added`,
    /// `fired:RUN`, `skip:TICK`, …) besides the time; a queue line only `queue` and `reason`
    /// (`paused`, `resumed`). `by` names who asked (an operator action), else null. `jobq events
    /// --json` prints it; the dashboard's `/events` sends it as each event's data.
    package var json: JSONValue {
        let scoped = isTaskLine ? RunScope.split(task) : nil
        return .object([
            ("stream_id", .string(entryID)),
            ("time", .string(DurationText.iso8601(milliseconds: time))),
            ("task", .optional(isTaskLine ? task : nil)),
            ("run", .optional(run)),
            ("key", .optional(scoped?.key)),
            ("schedule", .optional(schedule)),
            ("queue", .optional(pausedQueue)),
            ("from", .optional(from?.rawValue)),
            ("to", .optional(to?.rawValue)),
            ("attempt", .int(attempt)),
            ("reason", .string(reason)),
            ("by", .optional(actor)),
        ])
    }
}
