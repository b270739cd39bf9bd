/// What makes a task change state. Every event has one meaning in every script.
public enum TaskEvent: String, Sendable, Hashable, Codable, CaseIterable {
    /// A producer created the task.
    case submit
    /// Submitted while a prerequisite (under the default `success` policy) had already failed.
    case submitDoomed = "submit_doomed"
    /// A worker took the task under a lease.
    case claim
    /// The handler succeeded (or skipped).
    case complete
    /// The handler failed and attempts remain: back to PENDING until the backoff has passed.
    case retryLater = "retry_later"
    /// The handler failed with no attempts left, or failed permanently.
    case failFinal = "fail_final"
    /// The lease ran out: the worker is presumed dead, the task runs again, queued ahead of new
    /// work. The attempt is refunded unless the task ran alone (then the death is its own).
    case leaseExpired = "lease_expired"
    /// The lease ran out while the task ran alone, on its last attempt: FAILED, reason `poison`.
    case leaseExpiredFinal = "lease_expired_final"
    /// A shutting-down worker gave the task back without charging an attempt.
    case handBack = "hand_back"
    /// Someone cancelled the task (directly or through its workflow).
    case cancel
    /// A prerequisite ended FAILED or CANCELLED under the `success` policy.
    case dependencyFailed = "dependency_failed"
    /// `retry`: a FAILED or CANCELLED task (or a dependent it took down) is re-opened.
    case reopen
    /// The stored record is unusable (unknown state, missing fields): it is failed, never run.
    case corrupt
}
