import Metrics
import Synchronization

/// The worker's metrics, through swift-metrics (so any backend works; `jobq-worker` exports
/// them in Prometheus format).
///
/// | name | type | dimensions |
/// |---|---|---|
/// | `jobq_worker_tasks_started_total` | counter | handler |
/// | `jobq_worker_tasks_succeeded_total` | counter | handler (skips included) |
/// | `jobq_worker_tasks_failed_total` | counter | handler, reason (ended FAILED) |
/// | `jobq_worker_tasks_retried_total` | counter | handler, reason (failed, will run again) |
/// | `jobq_worker_tasks_cancelled_total` | counter | handler |
/// | `jobq_worker_tasks_handed_back_total` | counter | handler |
/// | `jobq_worker_tasks_snoozed_total` | counter | handler |
/// | `jobq_worker_task_duration_seconds` | timer | handler |
/// | `jobq_worker_slots_busy` / `jobq_worker_slots` | gauge | |
/// | `jobq_worker_claim_batch_size` | recorder | |
/// | `jobq_worker_ack_batch_size` | recorder | |
/// | `jobq_worker_redis_errors_total` | counter | operation |
/// | `jobq_worker_leases_reaped_total` | counter | |
final class WorkerMetrics: Sendable {
    struct PerHandler: Sendable {
        let started: Counter
        let succeeded: Counter
        let cancelled: Counter
        let handedBack: Counter
        let snoozed: Counter
        let duration: Timer
    }

    let slotsBusy = Gauge(label: "jobq_worker_slots_busy")
    let slots = Gauge(label: "jobq_worker_slots")
    let claimBatch = Recorder(label: "jobq_worker_claim_batch_size")
    let ackBatch = Recorder(label: "jobq_worker_ack_batch_size")
    /// Tasks per batch a batch handler was called with.
    let batchSize = Recorder(label: "jobq_worker_batch_size")
    let reaped = Counter(label: "jobq_worker_leases_reaped_total")

    private let handlers = Mutex<[String: PerHandler]>([:])
    private let reasons = Mutex<[String: Counter]>([:])
    private let redisErrors = Mutex<[String: Counter]>([:])

    func handler(_ name: String) -> PerHandler {
        handlers.withLock { cache in
            if let found = cache[name] { return found }
            let dimensions = [("handler", name)]
            let made = PerHandler(
                started: Counter(label: "jobq_worker_tasks_started_total", dimensions: dimensions),
                succeeded: Counter(label: "jobq_worker_tasks_succeeded_total", dimensions: dimensions),
                cancelled: Counter(label: "jobq_worker_tasks_cancelled_total", dimensions: dimensions),
                handedBack: Counter(label: "jobq_worker_tasks_handed_back_total", dimensions: dimensions),
                snoozed: Counter(label: "jobq_worker_tasks_snoozed_total", dimensions: dimensions),
                duration: Timer(label: "jobq_worker_task_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
            )
            cache[name] = made
            return made
        }
    }

    /// `failed` (ended FAILED) or `retried` (will run again), by handler and reason.
    func failure(_ kind: String, handler: String, reason: String) -> Counter {
        let key = kind + "\u{0}" + handler + "\u{0}" + reason
        return reasons.withLock { cache in
            if let found = cache[key] { return found }
            let made = Counter(label: "jobq_worker_tasks_\(kind)_total", dimensions: [("handler", handler), ("reason", reason)])
            cache[key] = made
            return made
        }
    }

    func redisError(_ operation: String) {
        redisErrors.withLock { cache in
            if let found = cache[operation] { return found }
            let made = Counter(label: "jobq_worker_redis_errors_total", dimensions: [("operation", operation)])
            cache[operation] = made
            return made
        }.increment()
    }
}
