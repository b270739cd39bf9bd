import JobqRedis

/// The task state machine's four roles over one script runner.
///
/// The coordinator is not a process: it is this value, shared by producers and every worker,
/// and the scripts make its transitions atomic, so there is nothing to fail over. Each role is a
/// seam of its own:
/// - ``TaskStore``: submit, cancel, retry, and reads of tasks (producers, the CLI);
/// - ``LeaseStore``: claim, heartbeat, complete, fail, progress, wake-up waits (workers);
/// - ``Maintenance``: reap, promote, purge, doctor, pause and resume (time-driven and operator work);
/// - ``Inspector``: overview, queues, workers, events, counters (read-only).
///
/// Not API: library users reach all of it through `JobqClient` (and the worker through its
/// lease-store protocol).
package struct Coordinator: Sendable {
    package let runner: ScriptRunner
    package let tasks: TaskStore
    package let leases: LeaseStore
    package let maintenance: Maintenance
    package let inspector: Inspector

    package var redis: RedisClient { runner.redis }
    package var keys: Keyspace { runner.keys }

    package init(redis: RedisClient, namespace: String = "default", clock: JobqClock = .redis, limits: Limits = Limits()) throws(JobqError) {
        let runner = ScriptRunner(redis: redis, keys: try Keyspace(namespace: namespace), clock: clock, limits: limits)
        self.runner = runner
        tasks = TaskStore(runner: runner)
        leases = LeaseStore(runner: runner)
        maintenance = Maintenance(runner: runner)
        inspector = Inspector(runner: runner)
    }
}

/// Producers' side: submit, cancel, retry, and reads of task records.
package struct TaskStore: Sendable {
    package let runner: ScriptRunner
    /// How long an idempotency key is remembered.
    package var idempotencyWindow: Duration = .seconds(24 * 3600)
}

/// Workers' side: claim under a lease, keep it alive, report the outcome. Every write after the
/// claim carries the fencing token; a stale token changes nothing.
package struct LeaseStore: Sendable {
    package let runner: ScriptRunner
}

/// Time-driven and operator work: reap expired leases, promote due tasks, retention, purge,
/// doctor, pausing queues.
package struct Maintenance: Sendable {
    package let runner: ScriptRunner
}

/// Read-only views of the namespace: sizes, queues, workers, the event stream, counters.
package struct Inspector: Sendable {
    package let runner: ScriptRunner
}
