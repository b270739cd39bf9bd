import JobqCore

/// Queues, workers and housekeeping: what operators and tools (the `jobq`
/// CLI, dashboards) need besides tasks.
extension JobqClient {
    /// Every queue ever used, with its ready count and pause flag.
    public func queues() async throws(JobqError) -> [QueueInfo] {
        try await engine.inspector.queues()
    }

    /// Stops claims from `queue` (running tasks finish; submits are still accepted). Returns
    /// whether it was running before. Throws `not_found` for a queue no task ever used (a typo),
    /// unless `allowNew`: then the queue is paused before its first task. With an `actor`, the
    /// change is an event line (`@queue:NAME`) that names it.
    @discardableResult
    public func pause(queue: String, allowNew: Bool = false, actor: String? = nil) async throws(JobqError) -> Bool {
        try await engine.maintenance.pause(queue: queue, allowNew: allowNew, actor: actor.flatMap(ActorName.clean))
    }

    /// Lets workers claim from `queue` again, and wakes them. Returns whether it was paused.
    @discardableResult
    public func resume(queue: String, actor: String? = nil) async throws(JobqError) -> Bool {
        try await engine.maintenance.resume(queue: queue, actor: actor.flatMap(ActorName.clean))
    }

    /// Workers seen alive, most recent first.
    public func workers() async throws(JobqError) -> [WorkerInfo] {
        try await engine.inspector.workers()
    }

    /// Sizes of the namespace's indexes.
    public func overview() async throws(JobqError) -> NamespaceOverview {
        try await engine.inspector.overview()
    }

    /// Counters since the namespace was created (submitted, claimed, done, …).
    public func stats() async throws(JobqError) -> [String: Int] {
        try await engine.inspector.stats()
    }

    /// Tasks ended DONE and FAILED per minute over the last `hours` (at most 72: the scripts keep
    /// 72 h of them), in one round trip: the dashboard's throughput and failure charts.
    public func minuteRates(hours: Int = 72) async throws(JobqError) -> MinuteRates {
        try await engine.inspector.minuteRates(hours: min(max(hours, 1), 72))
    }

    /// Redis server time, milliseconds since the epoch (ages that do not depend on this clock).
    public func serverTime() async throws(JobqError) -> Int64 {
        try await engine.inspector.serverTime()
    }

    /// Whether this Redis is safe for a task queue (eviction policy, persistence).
    public func checkServer() async throws(JobqError) -> ServerCheck {
        try await engine.inspector.checkServer()
    }

    /// One maintenance pass (reap expired leases, promote due tasks, retention), if `owner` wins
    /// the lock for `interval`; `nil` when another process is doing it.
    public func maintenancePass(owner: String, interval: Duration) async throws(JobqError) -> MaintenanceResult? {
        try await engine.maintenance.pass(owner: owner, interval: interval)
    }

    /// Deletes the records of finished tasks now instead of when their retention runs out.
    /// Tasks that are not finished (any more) are left alone. Returns how many were deleted.
    public func purge(finished ids: [String]) async throws(JobqError) -> Int {
        try await engine.maintenance.purge(finished: ids)
    }

    /// Scans the namespace for records and indexes that disagree, and recounts the
    /// concurrency-limit counts from the RUNNING tasks (``DoctorReport/limits``: at most
    /// ``LimitCountCheck/defaultCap`` running, else a note); changes nothing.
    public func diagnose() async throws(JobqError) -> DoctorReport {
        try await engine.maintenance.diagnose()
    }

    /// Repairs the problems of `report` (from ``diagnose()``): the tasks' first, then the
    /// concurrency-limit counts (written from a fresh recount, freed slots woken) and records of
    /// the format before 2026-12-07 (migrated); returns it with outcomes.
    public func repair(_ report: DoctorReport) async throws(JobqError) -> DoctorReport {
        try await engine.maintenance.repair(report)
    }

    /// Deletes the script libraries that other jobq versions left on the server
    /// (``ServerCheck/otherScriptLibraries``; `jobq doctor --repair`); returns their names.
    /// Libraries are server-wide: this also affects other namespaces, harmlessly (a worker of
    /// such a version loads its library again on its next call). A user that may not
    /// `FUNCTION DELETE` gets `redis_error` (NOPERM, ``JobqError/serverError``); nothing is
    /// deleted then (`jobq doctor --repair` turns it into a note).
    public func deleteOtherScriptLibraries() async throws(JobqError) -> [String] {
        guard let others = try await engine.inspector.otherScriptLibraries() else { return [] }
        return try await engine.maintenance.deleteScriptLibraries(others)
    }
}
