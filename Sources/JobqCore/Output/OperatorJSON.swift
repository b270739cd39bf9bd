/// The `--json` shapes of `jobq queues`, `workers`, `limits`, `runs` and `stats`, shared with the
/// dashboard's `/api/v1` so that both say the same thing in the same fields.
package enum OperatorJSON {
    /// `{"queues": [{"name", "ready", "paused"}]}`.
    package static func queues(_ queues: [QueueInfo]) -> JSONValue {
        .object([("queues", .array(queues.map { .object([("name", .string($0.name)), ("ready", .int($0.ready)), ("paused", .bool($0.paused))]) }))])
    }

    /// One worker: id, host, pid, queues, concurrency, running ids, last heartbeat (and its age
    /// on the Redis server's clock `now`).
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

    /// Tasks in `state` now, from the namespace's index sizes.
    package static func count(_ overview: NamespaceOverview, _ state: TaskState) -> Int {
        switch state {
        case .pending: overview.pending
        case .running: overview.running
        case .done, .skipped, .failed, .cancelled: overview.finished[state] ?? 0
        }
    }
}
