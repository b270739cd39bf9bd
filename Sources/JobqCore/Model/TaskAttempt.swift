/// How one attempt (one claim of a task by a worker) ended, as the script that ended it recorded
/// it in `t:<id>:attempts`. The words are rendered into the scripts' prelude (`ATTEMPT`), so the
/// Lua and Swift spellings cannot drift apart.
///
/// The outcome says what happened to the attempt *and* what it did to the attempt budget, so a
/// history reads without the task record beside it: ``isCharged`` and ``workerDied`` follow
/// from it.
public enum AttemptOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// The handler succeeded: the task is DONE.
    case done
    /// The handler failed and attempts were left: the task runs again (after its backoff).
    case retried
    /// The handler failed for the last time (or permanently): the task is FAILED.
    case failed
    /// The worker stopped gracefully and gave the task back; the attempt was not charged.
    case handedBack = "handed_back"
    /// The worker died (or stopped heartbeating) while running it beside other tasks: which task
    /// killed it is unknown, so the attempt was refunded (the task became a crash suspect).
    case diedRefunded = "died_refunded"
    /// The worker died while running only this task (quarantine): the attempt was charged and
    /// the task runs alone again.
    case diedCharged = "died_charged"
    /// The worker died while running only this task on its last attempt: FAILED, reason `poison`.
    case diedFinal = "died_final"
    /// The task was cancelled while running: CANCELLED.
    case cancelled
    /// The handler snoozed (not yet, try again later): the attempt was refunded and the task
    /// waits in `delayed`.
    case snoozed
    /// The handler waits for a signal or an answer: the attempt was refunded and the task waits
    /// in no queue until the signal comes.
    case waiting

    /// Whether the attempt went back without counting (a hand-back, a snooze or a wait: nothing failed).
    public var isRefundedByChoice: Bool { self == .handedBack || self == .snoozed || self == .waiting }

    /// Whether the attempt counted against `max_attempts`.
    public var isCharged: Bool { !isRefundedByChoice && self != .diedRefunded }

    /// Whether the attempt ended because its worker died or stopped heartbeating.
    public var workerDied: Bool { self == .diedRefunded || self == .diedCharged || self == .diedFinal }

    /// Whether the attempt ended the task (no further attempt follows without a `jobq retry`).
    public var endedTask: Bool { self == .done || self == .failed || self == .diedFinal || self == .cancelled }
}

/// One ended attempt of a task, from its bounded history (``TaskStore/attempts(of:)``).
///
/// Stored by the script that ended the attempt as one tab-separated list entry
/// `attempt worker started_ms ended_ms outcome reason error` (docs/keyspace.md). The history keeps
/// the first attempt and the last ``keptAfterFirst``: the first error is often the real one, and
/// the latest ones say what is happening now.
public struct TaskAttempt: Sendable, Hashable {
    /// Entries kept after the first one; older ones in between are dropped (so at most
    /// `keptAfterFirst + 1` entries per task).
    public static let keptAfterFirst = 20
    /// Bytes of the error message kept per entry (cut at a UTF-8 character boundary).
    public static let errorBytesKept = 300

    /// The attempt number the claim gave (1 for the first; a refunded attempt's successor has
    /// the same number, and `jobq retry` starts again from 1).
    public var attempt: Int
    public var worker: String
    /// Redis milliseconds since the epoch.
    public var started: Int64
    public var ended: Int64
    public var outcome: AttemptOutcome
    /// The task's reason code for this ending (`error`, `timeout`, `lease_expired`, `shutdown`, …).
    public var reason: String
    /// The error message, at most ``errorBytesKept`` bytes; empty when there was none.
    public var error: String

    public var duration: Duration { .milliseconds(max(ended - started, 0)) }

    public init(attempt: Int, worker: String, started: Int64, ended: Int64, outcome: AttemptOutcome, reason: String, error: String) {
        self.attempt = attempt
        self.worker = worker
        self.started = started
        self.ended = ended
        self.outcome = outcome
        self.reason = reason
        self.error = error
    }

    /// Decodes one stored entry strictly: seven tab-separated fields (the error, last, may hold
    /// tabs), numbers where numbers belong, a known outcome. `nil` otherwise: the reader skips
    /// the entry and counts it (``AttemptHistory/malformed``) rather than failing the whole
    /// history, because one garbled entry must not hide the others when someone debugs a failure.
    public init?(entry bytes: [UInt8]) {
        let parts = bytes.split(separator: 0x09, maxSplits: 6, omittingEmptySubsequences: false)
        guard parts.count == 7 else { return nil }
        func text(_ index: Int) -> String { String(decoding: parts[index], as: UTF8.self) }
        guard let attempt = Int(text(0)), attempt >= 0,
              let started = Int64(text(2)), let ended = Int64(text(3)),
              let outcome = AttemptOutcome(rawValue: text(4)) else { return nil }
        self.init(attempt: attempt, worker: text(1), started: started, ended: ended, outcome: outcome, reason: text(5), error: text(6))
    }
}

/// A task's attempt history as read: the decoded entries, oldest first, and how many stored
/// entries could not be decoded (skipped; shown as a note).
public struct AttemptHistory: Sendable, Hashable {
    public var attempts: [TaskAttempt]
    public var malformed: Int

    public init(attempts: [TaskAttempt] = [], malformed: Int = 0) {
        self.attempts = attempts
        self.malformed = malformed
    }

    /// Decodes raw list entries (LRANGE order, oldest first).
    public init(entries: [[UInt8]]) {
        var attempts: [TaskAttempt] = []
        var malformed = 0
        for entry in entries {
            if let attempt = TaskAttempt(entry: entry) { attempts.append(attempt) } else { malformed += 1 }
        }
        self.init(attempts: attempts, malformed: malformed)
    }

    /// The history completed by the attempt that ended a DONE task, which complete.lua does not
    /// store (docs/keyspace.md, `t:<id>:attempts`): a task that succeeded at once then needs no
    /// list at all, and its record says all the entry would (the attempt number, worker, start
    /// and end). Added when the record is DONE after a run (`worker` and `started` present,
    /// `attempts` at least 1) and the stored history does not already end with that attempt's
    /// `done` entry, same number and start (written by versions before this, by a task that
    /// started a child run, or kept by a rerun of the task: prelude.lua keep_done_attempt);
    /// the bound of ``TaskAttempt/keptAfterFirst`` holds as the script would have kept it.
    package func completed(byRecord state: TaskState?, attempts: Int?, worker: String?, started: Int64?, finished: Int64?) -> AttemptHistory {
        guard state == .done, let attempt = attempts, attempt >= 1, let worker, let started, let finished else { return self }
        // the same attempt stored already: its number and its start (a rerun numbers from 1 again)
        if let last = self.attempts.last, last.outcome == .done, last.attempt == attempt, last.started == started { return self }
        var history = self
        history.attempts.append(TaskAttempt(attempt: attempt, worker: worker, started: started, ended: finished, outcome: .done, reason: "", error: ""))
        if history.attempts.count > TaskAttempt.keptAfterFirst + 1 { history.attempts.remove(at: 1) }
        return history
    }

    /// Attempts that failed or whose worker died (a hand-back at shutdown or a snooze is
    /// neither): what makes a DONE task "recovered after retries".
    public var unsuccessful: Int { attempts.count { $0.outcome != .done && !$0.outcome.isRefundedByChoice } }
}
