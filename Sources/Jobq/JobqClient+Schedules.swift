import JobqCore

/// Schedules: runs submitted at cron times or intervals by the maintenance pass of every worker
/// and `jobq coordinator`, one run per tick without a leader (docs/flow-control.md, "Schedules").
extension JobqClient {
    /// Adds a schedule that submits `submission` as a new run at every tick of `rule`.
    ///
    /// - Parameters:
    ///   - overlap: what a tick does while the previous run is still going (default: skip it).
    ///   - catchUp: what happens to ticks missed while no worker or coordinator ran (default:
    ///     fire the latest once).
    ///   - replace: replace a schedule of that name instead of refusing it (`schedule_exists`).
    /// - Throws: `invalid_schedule` (cron, time zone, interval), `invalid_name`, what a submit
    ///   of `submission` would throw for bad input; nothing is written.
    @discardableResult
    public func addSchedule(
        _ name: String, _ rule: Schedule.Rule, submitting submission: ScheduledSubmission,
        overlap: Schedule.Overlap = .skip, catchUp: Schedule.CatchUp = .latest, replace: Bool = false
    ) async throws(JobqError) -> Schedule {
        try await engine.tasks.addSchedule(name, rule: rule, submission: submission, overlap: overlap, catchUp: catchUp, replace: replace)
    }

    /// Adds a schedule of a ``Workflow``: each tick starts a run of it.
    @discardableResult
    public func addSchedule(
        _ name: String, _ rule: Schedule.Rule, workflow: Workflow,
        overlap: Schedule.Overlap = .skip, catchUp: Schedule.CatchUp = .latest, replace: Bool = false
    ) async throws(JobqError) -> Schedule {
        _ = try workflow.topologicalOrder()
        let submission = ScheduledSubmission(tasks: workflow.tasks, run: workflow.runOptions())
        return try await addSchedule(name, rule, submitting: submission, overlap: overlap, catchUp: catchUp, replace: replace)
    }

    /// Every schedule, paused ones last, by next fire time, with the state of each one's last run.
    public func schedules() async throws(JobqError) -> [Schedule] {
        try await engine.tasks.schedules()
    }

    /// One schedule. Throws `not_found`.
    public func schedule(_ name: String) async throws(JobqError) -> Schedule {
        guard let schedule = try await engine.tasks.schedule(name) else {
            throw JobqError(.notFound, "no schedule \(name); list them with: jobq schedules", subject: name)
        }
        return schedule
    }

    /// Stops its ticks (the record stays). Returns `false` if it was paused already. Throws `not_found`.
    @discardableResult
    public func pauseSchedule(_ name: String) async throws(JobqError) -> Bool {
        try await engine.tasks.pauseSchedule(name)
    }

    /// Fires again from the next tick after now (ticks passed while paused are not owed).
    /// Returns `false` if it was not paused. Throws `not_found`.
    @discardableResult
    public func resumeSchedule(_ name: String) async throws(JobqError) -> Bool {
        try await engine.tasks.resumeSchedule(name)
    }

    /// Deletes the schedule; the runs it started stay. Throws `not_found`.
    public func removeSchedule(_ name: String) async throws(JobqError) {
        try await engine.tasks.removeSchedule(name)
    }

    /// Starts the schedule's run now, outside its ticks, with a run id of its own. Throws `not_found`.
    @discardableResult
    public func triggerSchedule(_ name: String) async throws(JobqError) -> WorkflowRun {
        let result = try await engine.tasks.triggerSchedule(name)
        guard let id = result.run else { throw JobqError(.internalError, "trigger returned no run id") }
        return WorkflowRun(client: self, id: id, created: result.created, tasks: result.tasks)
    }
}
