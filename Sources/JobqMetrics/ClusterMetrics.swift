import Jobq
import JobqCore
import Prometheus

/// The cluster's state as Prometheus metrics, computed from Redis at scrape time: what every
/// worker and producer of a namespace did, whichever process is scraped, so any number of
/// scrapers agree and nothing is lost when a worker restarts.
///
/// A fresh registry per scrape: the figures are read, not accumulated here. The counters
/// (`_total`) come from the namespace's `stats` hash, monotonic since the namespace was created,
/// so `rate()` works on them as on any counter. Labels are bounded: `queue`, `lane`, `state`,
/// `outcome` — never an id. docs/operations.md lists every metric (a test keeps it so).
package enum ClusterMetrics {
    /// One metric family: its name, type, labels and meaning.
    package struct Family: Sendable, Hashable {
        package enum Kind: String, Sendable { case gauge, counter }
        package let name: String
        package let kind: Kind
        package let labels: [String]
        package let help: String
    }

    /// Every family a scrape renders, in order.
    package static let families: [Family] = [
        Family(name: "jobq_tasks", kind: .gauge, labels: ["state"], help: "Tasks in each state now (pending: waiting + delayed + queued ids; finished ones while kept)."),
        Family(name: "jobq_tasks_waiting", kind: .gauge, labels: [], help: "PENDING tasks waiting for prerequisites."),
        Family(name: "jobq_tasks_delayed", kind: .gauge, labels: [], help: "PENDING tasks waiting for a time (a delay or a retry backoff)."),
        Family(name: "jobq_tasks_delayed_due", kind: .gauge, labels: [], help: "Delayed tasks already due that no maintenance pass has promoted yet."),
        Family(name: "jobq_leases_expired", kind: .gauge, labels: [], help: "RUNNING tasks whose lease has run out and that no maintenance pass has reaped yet."),
        Family(name: "jobq_queues", kind: .gauge, labels: [], help: "Queues known (every queue name ever used)."),
        Family(name: "jobq_queue_tasks", kind: .gauge, labels: ["queue", "lane"], help: "Ids waiting to be claimed, per queue and lane (ready, recovered, quarantine)."),
        Family(name: "jobq_queue_latency_seconds", kind: .gauge, labels: ["queue"], help: "Age of the oldest claimable task of the queue (0 when none)."),
        Family(name: "jobq_queue_paused", kind: .gauge, labels: ["queue"], help: "1 if the queue is paused, else 0."),
        Family(name: "jobq_workers", kind: .gauge, labels: [], help: "Workers registered (heartbeating)."),
        Family(name: "jobq_workers_oldest_heartbeat_age_seconds", kind: .gauge, labels: [], help: "Time since the least recent heartbeat among registered workers."),
        Family(name: "jobq_slots", kind: .gauge, labels: [], help: "Task slots of the registered workers (sum of their concurrency)."),
        Family(name: "jobq_slots_busy", kind: .gauge, labels: [], help: "Slots running a task, as the workers last reported."),
        Family(name: "jobq_runs", kind: .gauge, labels: ["state"], help: "Workflow runs not ended, per state (counted since the namespace's run counters began)."),
        Family(name: "jobq_runs_kept", kind: .gauge, labels: [], help: "Workflow runs kept (not ended, or ended within retention)."),
        Family(name: "jobq_schedules", kind: .gauge, labels: [], help: "Schedules defined."),
        Family(name: "jobq_limit_keys", kind: .gauge, labels: [], help: "Concurrency keys with running or parked tasks."),
        Family(name: "jobq_tasks_submitted_total", kind: .counter, labels: [], help: "Tasks submitted."),
        Family(name: "jobq_tasks_claimed_total", kind: .counter, labels: [], help: "Tasks claimed by workers (one per attempt)."),
        Family(name: "jobq_tasks_finished_total", kind: .counter, labels: ["outcome"], help: "Tasks that ended, by outcome (done, skipped, failed, cancelled)."),
        Family(name: "jobq_tasks_retried_total", kind: .counter, labels: [], help: "Failed attempts that will run again."),
        Family(name: "jobq_tasks_recovered_total", kind: .counter, labels: [], help: "Tasks taken back from a worker that died beside them, attempt refunded."),
        Family(name: "jobq_leases_expired_total", kind: .counter, labels: [], help: "Leases that ran out (worker died or stopped heartbeating) and were reaped."),
        Family(name: "jobq_tasks_reopened_total", kind: .counter, labels: [], help: "Ended tasks re-opened by retry or rerun."),
        Family(name: "jobq_tasks_cached_total", kind: .counter, labels: [], help: "Tasks that ended DONE from the result cache."),
        Family(name: "jobq_tasks_expired_total", kind: .counter, labels: [], help: "Tasks cancelled because they had not started by their expiry."),
        Family(name: "jobq_tasks_snoozed_total", kind: .counter, labels: [], help: "Attempts a handler snoozed."),
        Family(name: "jobq_tasks_signal_waits_total", kind: .counter, labels: [], help: "Attempts that ended waiting for a signal or an answer."),
        Family(name: "jobq_runs_finished_total", kind: .counter, labels: ["state"], help: "Workflow runs that ended, by final state."),
    ]

    /// The Prometheus text exposition of the client's namespace, read now (four pipelined
    /// round trips; see `Inspector.snapshot`). For the dashboard's `/metrics` route.
    package static func prometheusText(client: JobqClient) async throws(JobqError) -> String {
        String(decoding: try await exposition(client: client), as: UTF8.self)
    }

    /// The same as bytes, for ``MetricsServer``.
    package static func exposition(client: JobqClient) async throws(JobqError) -> [UInt8] {
        render(try await client.engine.inspector.snapshot())
    }

    /// Renders a snapshot (tests render known ones).
    package static func render(_ snapshot: ClusterSnapshot) -> [UInt8] {
        let registry = PrometheusCollectorRegistry()
        let sink = Sink(registry: registry)
        let pending = snapshot.waiting + snapshot.delayed + snapshot.queues.reduce(0) { $0 + $1.lanes.values.reduce(0, +) }
        sink.gauge("jobq_tasks", ["state": "pending"], pending)
        sink.gauge("jobq_tasks", ["state": "running"], snapshot.running)
        for state in TaskState.terminal {
            sink.gauge("jobq_tasks", ["state": state.rawValue.lowercased()], snapshot.finished[state] ?? 0)
        }
        sink.gauge("jobq_tasks_waiting", [:], snapshot.waiting)
        sink.gauge("jobq_tasks_delayed", [:], snapshot.delayed)
        sink.gauge("jobq_tasks_delayed_due", [:], snapshot.delayedDue)
        sink.gauge("jobq_leases_expired", [:], snapshot.leasesExpired)
        sink.gauge("jobq_queues", [:], snapshot.queueCount)
        for queue in snapshot.queues {
            for lane in ClusterSnapshot.Lane.allCases {
                sink.gauge("jobq_queue_tasks", ["queue": queue.name, "lane": lane.rawValue], queue.lanes[lane] ?? 0)
            }
            sink.gauge("jobq_queue_latency_seconds", ["queue": queue.name], queue.oldestAge ?? 0)
            sink.gauge("jobq_queue_paused", ["queue": queue.name], queue.paused ? 1 : 0)
        }
        sink.gauge("jobq_workers", [:], snapshot.workers)
        sink.gauge("jobq_workers_oldest_heartbeat_age_seconds", [:], snapshot.oldestHeartbeatAge)
        sink.gauge("jobq_slots", [:], snapshot.slots)
        sink.gauge("jobq_slots_busy", [:], snapshot.slotsBusy)
        let counters = snapshot.counters
        for state in ["pending", "running"] {
            // entries minus exits; runs submitted before the counters existed can make it dip
            // below zero as they end, so it is floored
            let now = (counters["run_" + state] ?? 0) - (counters["run_left_" + state] ?? 0)
            sink.gauge("jobq_runs", ["state": state], max(now, 0))
        }
        sink.gauge("jobq_runs_kept", [:], snapshot.runs)
        sink.gauge("jobq_schedules", [:], snapshot.schedules)
        sink.gauge("jobq_limit_keys", [:], snapshot.limitKeys)
        sink.counter("jobq_tasks_submitted_total", [:], counters["submitted"])
        sink.counter("jobq_tasks_claimed_total", [:], counters["claimed"])
        for outcome in TaskState.terminal.map({ $0.rawValue.lowercased() }) {
            sink.counter("jobq_tasks_finished_total", ["outcome": outcome], counters[outcome])
        }
        sink.counter("jobq_tasks_retried_total", [:], counters["retried"])
        sink.counter("jobq_tasks_recovered_total", [:], counters["recovered"])
        sink.counter("jobq_leases_expired_total", [:], counters["lease_expired"])
        sink.counter("jobq_tasks_reopened_total", [:], counters["reopened"])
        sink.counter("jobq_tasks_cached_total", [:], counters["cached"])
        sink.counter("jobq_tasks_expired_total", [:], counters["expired"])
        sink.counter("jobq_tasks_snoozed_total", [:], counters["snoozed"])
        sink.counter("jobq_tasks_signal_waits_total", [:], counters["waiting"])
        for state in ["done", "failed", "cancelled"] {
            sink.counter("jobq_runs_finished_total", ["state": state], counters["run_" + state])
        }
        return registry.emitToBuffer()
    }

    /// Creates each metric from its family's entry, so a name used here is always documented.
    private struct Sink {
        let registry: PrometheusCollectorRegistry

        func descriptor(_ name: String, _ labels: [String: String]) -> (MetricNameDescriptor, [(String, String)]) {
            guard let family = ClusterMetrics.families.first(where: { $0.name == name }) else {
                preconditionFailure("metric \(name) is not in ClusterMetrics.families")
            }
            return (
                MetricNameDescriptor(metricName: name, unitName: "", helpText: family.help),
                family.labels.map { ($0, labels[$0] ?? "") }
            )
        }

        func gauge(_ name: String, _ labels: [String: String], _ value: Int) {
            gauge(name, labels, Double(value))
        }

        func gauge(_ name: String, _ labels: [String: String], _ value: Double) {
            let (descriptor, pairs) = descriptor(name, labels)
            let gauge = pairs.isEmpty ? registry.makeGauge(descriptor: descriptor) : registry.makeGauge(descriptor: descriptor, labels: pairs)
            gauge.set(value)
        }

        func counter(_ name: String, _ labels: [String: String], _ value: Int?) {
            let (descriptor, pairs) = descriptor(name, labels)
            let counter = pairs.isEmpty ? registry.makeCounter(descriptor: descriptor) : registry.makeCounter(descriptor: descriptor, labels: pairs)
            counter.increment(by: Int64(max(value ?? 0, 0)))
        }
    }
}
