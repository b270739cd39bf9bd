/// What makes a task change state. Every event has one meaning in every script.
public enum TaskEvent: String, Sendable, Hashable, Codable, CaseIterable {
    /// A producer created the task.
    case submit
    /// Submitted while a prerequisite (under the default `success` policy) had already failed.
    case submitDoomed = "submit_doomed"
    /// A worker took the task under a lease.
    case claim
    /// The handler succeeded.
    case complete
    /// The handler said there was nothing to do (`HandlerError.skip`): SKIPPED, reason `skipped`.
    case skip
    /// Submitted while an outside prerequisite had already ended in a way its `failure` edge
    /// cannot accept (DONE, SKIPPED, CANCELLED), or with a precondition that already said skip.
    case submitSkipped = "submit_skipped"
    /// A prerequisite ended in a way the dependent's `failure` edge cannot accept: SKIPPED,
    /// reason `condition_unmet`; nothing went wrong, its condition can no longer hold.
    case conditionUnmet = "condition_unmet"
    /// The task became ready and its precondition (`skip_if` / `run_if`) said skip: SKIPPED,
    /// reason `precondition`.
    case precondition
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
    /// The handler said "not yet, try again in D" (`HandlerError.snooze`, a command handler's
    /// `JOBQ_SNOOZE` line): back to PENDING, delayed by D on Redis time, the attempt refunded and
    /// `snoozes` counted (reason `snoozed`). Past the task's `max_snoozes` the script records a
    /// failure instead (reason `snooze_limit`, `retry_later` or `fail_final`).
    case snooze
    /// Someone cancelled the task (directly or through its workflow).
    case cancel
    /// Its expiry (``TaskSpec/expires``) passed before it ever started: CANCELLED, reason
    /// `expired`, never run (claim.lua finds it due, or the maintenance pass, promote.lua).
    case expire
    /// A prerequisite ended FAILED or CANCELLED under the `success` policy.
    case dependencyFailed = "dependency_failed"
    /// `retry`: a FAILED or CANCELLED task (or a dependent it took down, CANCELLED or SKIPPED by
    /// an unmet `failure` edge) is re-opened. `jobq retry` itself refuses a SKIPPED root.
    case reopen
    /// A sub-workflow task's handler started its child run: the task waits, in no queue, for the
    /// run to end (it holds no worker slot meanwhile).
    case awaitRun = "await_run"
    /// Its child run ended DONE: the task is DONE with the run's output as its result.
    case childDone = "child_done"
    /// Its child run ended FAILED or CANCELLED: the task FAILED, reason `child_failed`.
    case childFailed = "child_failed"
    /// The task became ready with a `cache_key` that a DONE task's key expanded to: DONE at once
    /// with that task's result (field `cached` names it), reason `cached`; it never runs.
    case cached
    /// `rerun --outdated`: a DONE task that is outdated (or depends on one) is re-opened.
    case rerun
    /// The handler waits for a signal or asks a question (`HandlerContext.waitForSignal`,
    /// `ask`; a command handler's `JOBQ_WAIT` / `JOBQ_ASK` line): back to PENDING in no queue,
    /// the attempt refunded, holding no slot, reason `waiting`. A signal it already has kept
    /// resumes it at once (`signal` right after).
    case awaitSignal = "await_signal"
    /// A signal (or an answer) arrived for a task that waits for it: queued again, reason
    /// `signalled` (or `answered`). The handler is invoked again from its start and finds it kept.
    /// A declared wait (`wait_for`) counts the signal off like a prerequisite (queued when it was
    /// the last condition); with `on_timeout: run` its timeout does the same (reason `signal_timeout`).
    case signal
    /// Its wait's timeout passed with no signal: FAILED, reason `signal_timeout`.
    case signalTimeout = "signal_timeout"
    /// A declared wait (`wait_for`, `on_timeout: skip`) timed out: SKIPPED, reason `signal_timeout`.
    case waitSkipped = "wait_skipped"
    /// The handler spawned children and waits for them (`HandlerContext.waitForChildren`, a
    /// command handler's `JOBQ_WAIT_CHILDREN`): back to PENDING in no queue, the attempt refunded,
    /// holding no slot, reason `waiting_children` (fields `child`, `child_wait`).
    case awaitChildren = "await_children"
    /// The child run it waited for ended (DONE; or any way, when it spawned with
    /// `onChildFailure: .wakeParent`): queued again, reason `resumed`; the handler is invoked
    /// again from its start and reads its children's results.
    case childrenDone = "children_done"
    /// The stored record is unusable (unknown state, missing fields): it is failed, never run.
    case corrupt
    /// A service task's handler stopped because its run is over (every other task ended):
    /// DONE, reason `service_stopped` (docs/state-machine.md).
    case serviceStop = "service_stop"
}
