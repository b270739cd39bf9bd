/// Per-item codes and argument words the scripts share with Swift, rendered into every script's
/// prelude (after the state table and the key table) so that Lua never spells a literal that
/// Swift defines. ``ScriptConstants/luaSource`` is the generated block.
package enum ScriptConstants {
    /// The whole generated block: return codes, per-item codes, argument words.
    static var luaSource: String {
        var lines: [String] = []
        lines.append(integers(ScriptCode.allCases.map { (luaName($0), $0.rawValue) }))
        lines.append(integers(HeartbeatItemCode.allCases.map { ("HEARTBEAT_" + luaName($0), $0.rawValue) }))
        lines.append(integers(FailItemCode.allCases.map { ("FAIL_" + luaName($0), $0.rawValue) }))
        lines.append(words("FAIL_MODE", FailMode.allCases.map(\.rawValue)))
        lines.append(words("WAIT_ON_TIMEOUT", DeclaredWait.OnTimeout.allCases.map(\.rawValue)))
        lines.append(words("CANCEL_TARGET", CancelTarget.allCases.map(\.rawValue)))
        lines.append(words("CANCEL_RESULT", CancelScriptResult.allCases.map(\.rawValue)))
        lines.append(words("POLICY", DependencyPolicy.allCases.map(\.rawValue)))
        lines.append(words("DOCTOR_MODE", DoctorMode.allCases.map(\.rawValue)))
        lines.append(words("QUEUE_ACTION", QueueAction.allCases.map(\.rawValue)))
        lines.append(words("SCHEDULE_ACTION", ScheduleAction.allCases.map(\.rawValue)))
        lines.append(words("TICK", TickOutcome.allCases.map(\.rawValue)))
        lines.append(integers(ClaimMode.allCases.map { ("CLAIM_" + luaName($0), $0.rawValue) }))
        lines.append(words("STEP", ContinuationStep.allCases.map(\.rawValue)))
        lines.append(words("CONTINUATION", ContinuationStatus.allCases.map(\.rawValue)))
        lines.append(words("RUN_OPTIONS", RunOptionField.allCases.map(\.rawValue)))
        lines.append(words("CHILD_FAILURE", ChildFailurePolicy.allCases.map(\.rawValue)))
        lines.append(words("SUBMIT_CHUNK", SubmitChunk.allCases.map(\.rawValue)))
        lines.append(words("ATTEMPT", AttemptOutcome.allCases.map(\.rawValue)))
        lines.append(words("UNIQUE_MODE", Uniqueness.ScriptMode.allCases.map(\.rawValue)))
        lines.append("local SUBMITTED = { " + SubmitOutcome.allCases.map { "\($0) = \($0.rawValue)" }.joined(separator: ", ") + " }")
        lines.append(integers([("ATTEMPTS_KEPT_AFTER_FIRST", TaskAttempt.keptAfterFirst), ("ATTEMPT_ERROR_BYTES", TaskAttempt.errorBytesKept)]))
        lines.append(integers([("DEFAULT_MAX_SNOOZES", TaskSpec.defaultMaxSnoozes), ("CHECKPOINT_MAX_BYTES", Limits.checkpointMaxBytes), ("SIGNAL_MAX_BYTES", Limits.signalMaxBytes), ("SIGNALS_KEPT_MAX", Limits.signalsKeptMax), ("RATE_WAKE_KEYS", Limits.rateWakeKeys), ("RATE_LOG_SWEEP", Limits.rateLogSweep), ("PARKS_PER_CLAIM", Limits.parksPerClaim)]))
        lines.append(integers([("PRIORITY_MIN", TaskSpec.priorities.lowerBound), ("PRIORITY_MAX", TaskSpec.priorities.upperBound)]))
        lines.append(integers([("TRACE_MAX_BYTES", TraceCarrier.maxBytes), ("SUBMIT_ABANDONED_MS", Limits.submitAbandonedMilliseconds)]))
        return lines.joined(separator: "\n") + "\n"
    }

    /// `local A, B = 1, 2`
    private static func integers(_ pairs: [(String, Int)]) -> String {
        "local " + pairs.map(\.0).joined(separator: ", ") + " = " + pairs.map { String($0.1) }.joined(separator: ", ")
    }

    /// `local NAME = { word = 'word', … }`: a set of allowed words that is also their spelling.
    private static func words(_ table: String, _ values: [String]) -> String {
        "local \(table) = { " + values.map { "['\($0)'] = '\($0)'" }.joined(separator: ", ") + " }"
    }

    /// `notFound` → `NOT_FOUND`, `duplicateID` → `DUPLICATE_ID`.
    static func luaName(_ value: some Any) -> String {
        var out = ""
        var previousWasLower = false
        for character in String(describing: value) {
            if character.isUppercase && previousWasLower { out += "_" }
            previousWasLower = character.isLowercase
            out += character.uppercased()
        }
        return out
    }
}

/// heartbeat.lua's per-lease answers (besides the refusals of ``ScriptCode``).
package enum HeartbeatItemCode: Int, Sendable, CaseIterable {
    case extended = 1
    case cancelRequested = 2
}

/// fail.lua's per-task answers (besides the refusals of ``ScriptCode``).
package enum FailItemCode: Int, Sendable, CaseIterable {
    case retrying = 1
    case failed = 2
    case cancelled = 3
    case handedBack = 4
    case snoozed = 5
    /// Waiting for a signal (in no queue), or resumed at once by one already kept.
    case waiting = 6
}

/// How fail.lua should end a run that did not succeed.
package enum FailMode: String, Sendable, CaseIterable {
    /// Retry after the given delay if attempts remain, else FAILED.
    case retry
    /// FAILED now (a permanent error, an unknown handler).
    case final
    /// Back to PENDING at once without charging the attempt (graceful shutdown).
    case handback
    /// The handler stopped because the task was cancelled: CANCELLED.
    case cancelled
    /// Not yet: back to PENDING after the delay without charging the attempt, unless the task's
    /// snoozes are used up (then a failure with reason `snooze_limit`, retried per backoff).
    case snooze
    /// Wait for a signal: back to PENDING in no queue without charging the attempt (the delay is
    /// the timeout, the reason the signal's name, the message the question, if any).
    case wait
    /// A snooze (same budget, same delay grammar `snooze_ms/retry_ms`) that also pauses the
    /// task's rate key for the delay (reason `rate_limited`): a handler's "429, retry after D".
    /// A task without a rate key is snoozed, with that reason.
    case ratelimited
    /// Wait for the child run the task spawned (record field `spawned`): back to PENDING in no
    /// queue without charging the attempt, queued again when the run ends.
    case children
}

/// What cancel.lua is asked to cancel.
package enum CancelTarget: String, Sendable, CaseIterable {
    case task
    case workflow
}

/// cancel.lua's answer for one task.
package enum CancelScriptResult: String, Sendable, CaseIterable {
    /// It was PENDING and is now CANCELLED.
    case cancelled = "CANCELLED"
    /// It is RUNNING: its worker was told.
    case requested = "REQUESTED"
}

/// doctor.lua's modes: `check` writes nothing and answers what `repair` would do.
package enum DoctorMode: String, Sendable, CaseIterable {
    case check
    case repair
}

/// queue.lua's actions.
package enum QueueAction: String, Sendable, CaseIterable {
    case pause
    case resume
}

/// schedule.lua's actions (docs/scripts.md).
package enum ScheduleAction: String, Sendable, CaseIterable {
    case add, claim, advance, wait, later, pause, resume, remove, triggered
}

/// What became of one tick of a schedule: the decision a claim records (`fire`, `skip`,
/// `missed`) and the outcome its advance stores (`fired`, `skipped`, `missed`), plus
/// `triggered` for `schedule trigger`.
package enum TickOutcome: String, Sendable, CaseIterable {
    /// Claim decision: submit the tick's run.
    case fire
    /// Claim decision and outcome: the previous run was still going (overlap `skip`).
    case skip
    /// Claim decision and outcome: the tick passed while nothing ran the schedules (catch-up).
    case missed
    /// Outcome: the tick's run was submitted.
    case fired
    /// Outcome of `schedule trigger`: a run outside the ticks.
    case triggered
}

/// How claim.lua's tasks must run (the third field of its reply).
package enum ClaimMode: Int, Sendable, CaseIterable {
    /// Beside whatever else the worker runs.
    case normal = 0
    /// The one task is a quarantined suspect: run it alone, claim nothing until it ends.
    case alone = 1
    /// A quarantined suspect waits and this worker was picked to run it: claim nothing until
    /// every slot is free, then claim as an idle worker.
    case drain = 2
}

/// Which call of a bounded operation (a workflow cancellation, a retry) this is: the first, or
/// one continuing the work the earlier calls left (docs/architecture.md, "Bounded scripts").
package enum ContinuationStep: String, Sendable, CaseIterable {
    case start
    case next
}

/// What a bounded script says about the work it was given.
package enum ContinuationStatus: String, Sendable, CaseIterable {
    /// All of it is done.
    case done
    /// Some is left: call again (`next`, or settle.lua for cascades).
    case more
    /// It waits for a cascade on the settle list: run settle.lua until done, then call again.
    case settle
}

/// The options a run record may carry (submit.lua stores them as given, after Swift checked
/// them: ``RunOptions``); the scripts that enforce them read these fields.
package enum RunOptionField: String, Sendable, CaseIterable {
    /// At most this many of the run's tasks RUNNING at once.
    case window
    /// The run's deadline (ms, Redis clock).
    case deadline
    /// The deadline relative to the submission (ms): submit.lua turns it into `deadline` on
    /// Redis time (submitted, never stored).
    case deadlineIn = "deadline_in"
    /// The keys of the run's critical tasks, space-separated with a space at each end: the
    /// failure of one stops the run (asynciojobs' critical jobs).
    case critical
    /// The key of the task whose result is the run's output (what a sub-workflow task that
    /// started this run ends with).
    case output
    /// `1`: the first task that fails for good cancels the rest.
    case failFast = "fail_fast"
    /// A spawn's fence, `PARENT TOKEN POLICY WIDTH` (``SpawnFence``): checked by submit.lua before it
    /// writes anything, never stored as given (the run gets `parent` and `on_child_failure`).
    case spawnedBy = "spawned_by"
    /// A run submitted in several calls (``SubmitChunk``): set by the first, the time (ms, Redis
    /// clock) of the latest chunk while the run is still being submitted (it cannot end), removed
    /// by the last. As a submitted pair its value is the ``SubmitChunk`` of the call.
    case building
    /// The keys of the run's service tasks (``TaskSpec/service``), space-separated with a space
    /// at each end: started with the run, not waited for, stopped when the rest has ended.
    case services
}

/// Which part of a run submitted in several submit.lua calls this call is (TaskStore.submit,
/// docs/scripts.md "submit"): the first creates the run marked `building`, the following append
/// tasks, the last also seals it (from then on it may end).
package enum SubmitChunk: String, Sendable, CaseIterable {
    case first
    case more
    case last
}
