import JobqCore

extension JobqClient {
    /// Everything `jobq status ID --json` and the dashboard's task page show about one task
    /// (``TaskReport``), read the same way for both.
    package func taskReport(_ id: String) async throws(JobqError) -> TaskReport {
        let info = try await status(id)
        let progress = info.state == .running ? try await self.progress(of: id) : []
        let ids = info.prerequisites.map(\.id)
        var states: [String: TaskState?] = [:]
        for (prerequisite, state) in zip(ids, try await self.states(of: ids)) { states[prerequisite] = state }
        let history = try await attempts(of: id)
        var limit: LimitUsage?
        if let key = info.concurrencyKey { limit = try await limitUsage([key]).first }
        var rate: RateUsage?
        if let given = info.rate, let key = given.key { rate = try await rateUsage([key], rates: [key: given]).first }
        let (dependents, total) = try await self.dependents(of: id, limit: TaskReport.dependentLimit)
        let dependentStates = try await self.states(of: dependents.map(\.id))
        let logs = try await self.logs(of: id)
        // the child run it waits for or spawned (a sub-workflow, a map, spawned children)
        var children: RunInfo?
        if let run = info.childRun ?? info.spawnedRun { children = try await engine.tasks.run(run) }
        return TaskReport(
            info: info, prerequisiteStates: states, progress: progress, history: history, limit: limit, rate: rate,
            dependents: Array(zip(dependents, dependentStates)), dependentTotal: total,
            logTail: Array(logs.suffix(TaskReport.logLines)), children: children, now: try await serverTime()
        )
    }
}
