/// The `--json` shapes of `jobq queues`, `workers`, `limits`, `runs` and `stats`, shared with the
/// dashboard's `/api/v1` so that both say the same thing in the same fields.
package enum OperatorJSON {
    /// `{"queues": [{"name", "ready", "paused", "oldest_age_ms", "fair_keys"}]}`: `oldest_age_ms`,
    /// the age of the oldest claimable task (queue latency), `null` when none waits; `fair_keys`,
    /// the fair keys with ready tasks, which claims take in turns (``QueueInfo/fairKeys``).
    package static func queues(_ queues: [QueueInfo]) -> JSONValue {
        .object([("queues", .array(queues.map {
            .object([("name", .string($0.name)), ("ready", .int($0.ready)), ("paused", .bool($0.paused)), ("oldest_age_ms", .optional(oldestMilliseconds($0))), ("fair_keys", .int($0.fairKeys))])
        }))])
    }

    /// A queue's latency in whole milliseconds, `nil` when no task waits.
    package static func oldestMilliseconds(_ queue: QueueInfo) -> Int? {
        queue.oldestAge.map { Int(($0 * 1000).rounded()) }
    }

    /// One worker: id, host, pid, queues, concurrency, running ids, last heartbeat (and its age
    /// on the Redis server's clock `now`), its heartbeat interval, and the stuck flags: `silent`
    /// (no heartbeat for 3 intervals), `overdue` (tasks running past their timeout), `stuck`
    /// (either).
    package static func worker(_ worker: WorkerInfo, now: Int64) -> JSONValue {
        .object([
            ("id", .string(worker.id)),
            ("host", .string(worker.host)),
            ("pid", .int(worker.pid)),
            ("queues", .array(worker.queues.map { .string($0) })),
            ("concurrency", .int(worker.concurrency)),
            ("running", .array(worker.running.map { .string($0) })),
            ("last_seen", TaskJSON.time(worker.lastSeen)),
            ("last_seen_ms_ago", .int(max(0, now - worker.lastSeen))),
            ("heartbeat_ms", .int(Int(worker.heartbeatMilliseconds ?? WorkerInfo.defaultHeartbeatMilliseconds))),
            ("silent", .bool(worker.isSilent(now: now))),
            ("overdue", .array(worker.overdue.map { .string($0) })),
            ("stuck", .bool(worker.isStuck(now: now))),
        ])
    }

    /// `{"workers": [...]}`.
    package static func workers(_ workers: [WorkerInfo], now: Int64) -> JSONValue {
        .object([("workers", .array(workers.map { worker($0, now: now) }))])
    }

    /// `{"limits": [{"key", "running", "limit", "parked"}], "next_cursor"}`.
    package static func limits(_ page: LimitPage) -> JSONValue {
        .object([
            ("limits", .array(page.keys.map { usage in
                .object([
                    ("key", .string(usage.key)), ("running", .int(usage.running)),
                    ("limit", .optional(usage.limit)), ("parked", .int(usage.parked)),
                ])
            })),
            ("next_cursor", .optional(page.next)),
        ])
    }

    /// `{"runs": [RunJSON...], "next"}`.
    package static func runs(_ page: RunPage) -> JSONValue {
        .object([("runs", .array(page.runs.map(RunJSON.object))), ("next", .optional(page.next?.description))])
    }

    /// The counters `jobq stats` lists first, in this order; others follow by name.
    package static let counterNames = ["submitted", "claimed", "done", "failed", "cancelled", "retried", "reopened"]

    /// `jobq stats --json`: tasks per state now, pending detail, queues, workers, counters.
    package static func stats(namespace: String, overview: NamespaceOverview, queues: [QueueInfo], counters: [String: Int]) -> JSONValue {
        let names = counterNames + counters.keys.filter { !counterNames.contains($0) }.sorted()
        return .object([
            ("namespace", .string(namespace)),
            ("tasks", .object(TaskState.allCases.map { ($0.rawValue.lowercased(), .int(count(overview, $0))) })),
            ("pending_detail", .object([
                ("ready", .int(overview.ready)), ("delayed", .int(overview.delayed)), ("waiting", .int(overview.waiting)),
            ])),
            ("queues", .int(queues.count)),
            ("paused_queues", .int(queues.filter(\.paused).count)),
            ("workers", .int(overview.workers)),
            ("counters", .object(names.map { ($0, .int(counters[$0] ?? 0)) })),
        ])
    }

    /// `jobq stats --json` and the dashboard's `/api/v1/overview`: ``stats(namespace:overview:queues:counters:)``
    /// plus `per_queue` (`jobq queues --json`'s list) and `rates` (`first_minute_ms`, `done` and
    /// `failed` per minute, oldest first).
    package static func overview(namespace: String, overview: NamespaceOverview, queues: [QueueInfo], counters: [String: Int], rates: MinuteRates) -> JSONValue {
        let totals = stats(namespace: namespace, overview: overview, queues: queues, counters: counters)
        guard case .object(var fields) = totals, case .object(let queueFields) = self.queues(queues), let list = queueFields.first?.1 else { return totals }
        fields.append(("per_queue", list))
        fields.append(("rates", .object([
            ("first_minute_ms", .int(Int(rates.firstMinute) * 60_000)),
            ("done", .array(rates.done.map { .int($0) })),
            ("failed", .array(rates.failed.map { .int($0) })),
        ])))
        return .object(fields)
    }

    /// Tasks in `state` now, from the namespace's index sizes.
    package static func count(_ overview: NamespaceOverview, _ state: TaskState) -> Int {
        switch state {
        case .pending: overview.pending
        case .running: overview.running
        case .done, .skipped, .failed, .cancelled: overview.finished[state] ?? 0
        }
    }
}
