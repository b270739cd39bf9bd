import Foundation

/// The `--json` shapes of tasks (the CLI's `--json` and the dashboard's `/api/v1`), workflows and progress: one place, so field names stay stable.
///
/// Field names are snake_case; times are ISO 8601 UTC strings (`null` when not reached); payloads
/// and results are embedded as JSON values, exactly as stored.
package enum TaskJSON {
    /// The short form used by `list` and in workflow tables.
    package static func summary(_ info: TaskInfo) -> JSONValue {
        .object(summaryFields(info))
    }

    private static func summaryFields(_ info: TaskInfo) -> [(String, JSONValue)] {
        [
            ("id", .string(info.id)),
            ("title", .string(info.title)),
            ("handler", .string(info.handler)),
            ("queue", .string(info.queue)),
            ("priority", .int(info.priority)),
            ("service", .bool(info.service)),
            ("workflow", .optional(info.workflow)),
            ("state", .optional(info.state?.rawValue)),
            ("reason", .optional(info.reason)),
            ("cached", .optional(info.cached)),
            ("outdated", .bool(info.outdated)),
            ("error", .optional(info.error)),
            ("attempts", .int(info.attempts)),
            ("max_attempts", .int(info.maxAttempts)),
            ("snoozes", .int(info.snoozes)),
            ("created_at", time(info.created)),
            ("started_at", time(info.started)),
            ("finished_at", time(info.finished)),
            ("concurrency_key", .optional(info.concurrencyKey)),
            ("concurrency_limit", .optional(info.concurrencyLimit)),
            ("fair_key", .optional(info.fairKey)),
            ("unique_key", .optional(info.uniqueKey)),
            ("unique_mode", .optional(info.uniqueMode)),
            ("rate_key", .optional(info.rate?.key)),
            ("rate_limit", .optional(info.rate?.text)),
        ]
    }

    /// Everything `status ID --json` shows.
    /// `rateLimited`: whether its rate key holds it back now (the CLI's `Snapshot.rateLimited`).
    package static func detail(_ info: TaskInfo, prerequisiteStates: [String: TaskState?], progress: [ProgressEntry], history: AttemptHistory, limit: LimitUsage? = nil,
                               rate: RateUsage? = nil, rateLimited: Bool = false, children: RunInfo? = nil) -> JSONValue {
        let prerequisites: [JSONValue] = info.prerequisites.map { prerequisite in
            .object([
                ("id", .string(prerequisite.id)),
                ("policy", .string(prerequisite.policy.rawValue)),
                ("state", .optional((prerequisiteStates[prerequisite.id] ?? nil)?.rawValue)),
            ])
        }
        return .object(summaryFields(info) + [
            ("cause", .optional(info.cause)),
            ("skipped", .bool(info.skipped)),
            ("cancel_requested", .bool(info.cancelRequested)),
            ("child_run", .optional(info.childRun)),
            ("spawned_run", .optional(info.spawnedRun)),
            ("waits_for_children", .bool(info.waitsForChildren)),
            ("children", children.map(ChildrenText.json) ?? .null),
            ("waiting_for", .optional(info.waitingFor)),
            ("wait_until", time(info.waitUntil)),
            ("question", info.question.map { .object([("question", .string($0.question)), ("choices", .array($0.choices.map { .string($0) }))]) } ?? .null),
            ("signals", .array(info.keptSignals.map { .string($0) })),
            ("worker_deaths", .int(info.workerDeaths)),
            ("suspect_level", .int(info.suspectLevel)),
            ("prerequisites", .array(prerequisites)),
            ("unresolved_prerequisites", .int(info.unresolvedPrerequisites)),
            ("worker", .optional(info.worker)),
            ("run_after", time(info.runAfter)),
            ("expires_at", time(info.expiresAt)),
            ("max_snoozes", .int(info.maxSnoozes)),
            // its key's tasks running now, and whether that holds this one back
            ("concurrency_running", limit.map { .int($0.running) } ?? .null),
            ("held_by_limit", .bool(heldByLimit(info, usage: limit) != nil)),
            // its rate key: starts left in the window, and whether (until when) it holds this one back
            ("rate_starts_left", .optional(rate?.startsLeft)),
            ("rate_limited", .bool(rateLimited)),
            ("rate_paused_until", time(rate?.pausedUntil)),
            ("rate_wake_at", time(rate?.wakeAt)),
            // the size, not the value: a checkpoint is the handler's business (up to 64 KiB)
            ("checkpoint_bytes", info.checkpointBytes.map { .int($0) } ?? .null),
            ("checkpoint_at", time(info.checkpointAt)),
            ("lease_deadline", time(info.leaseDeadline)),
            ("timeout_ms", .int(info.timeout.jobqMilliseconds)),
            ("result_ttl_ms", .int(info.resultTTL.jobqMilliseconds)),
            ("payload", .stored(info.payload)),
            ("result", info.state?.isSuccessLike == true ? .stored(info.result) : .null),
            ("progress", .array(progress.map(self.progress))),
        ] + historyFields(history))
    }

    /// `attempt_history` (oldest first; the first attempt and the last 20 are kept) and
    /// `attempt_history_malformed` (stored entries that could not be read, skipped). Not named
    /// `attempts`: that is the attempt count.
    package static func historyFields(_ history: AttemptHistory) -> [(String, JSONValue)] {
        [("attempt_history", .array(history.attempts.map(attempt))), ("attempt_history_malformed", .int(history.malformed))]
    }

    package static func attempt(_ attempt: TaskAttempt) -> JSONValue {
        .object([
            ("attempt", .int(attempt.attempt)),
            ("worker", .string(attempt.worker)),
            ("started_at", time(attempt.started)),
            ("ended_at", time(attempt.ended)),
            ("duration_ms", .int(attempt.duration.jobqMilliseconds)),
            ("outcome", .string(attempt.outcome.rawValue)),
            ("charged", .bool(attempt.outcome.isCharged)),
            ("worker_died", .bool(attempt.outcome.workerDied)),
            ("reason", .string(attempt.reason)),
            ("error", .string(attempt.error)),
        ])
    }

    /// The task shape of `list` and workflow tables, with the fields a debrief adds.
    package static func debriefed(_ info: TaskInfo, history: AttemptHistory) -> JSONValue {
        .object(summaryFields(info) + [("cause", .optional(info.cause)), ("worker_deaths", .int(info.workerDeaths))] + historyFields(history))
    }

    package static func progress(_ entry: ProgressEntry) -> JSONValue {
        .object([
            ("group", .array(entry.group.map { .string($0) })),
            ("current", .int(entry.current)),
            ("total", .int(entry.total)),
            ("percent", entry.fraction.map { .number(String(format: "%.1f", $0 * 100)) } ?? .null),
            ("status", .string(entry.status)),
        ])
    }

    /// `{"pending": n, "running": n, "done": n, "failed": n, "cancelled": n}` in that order.
    package static func counts(_ summary: StateCounts) -> JSONValue {
        .object(TaskState.allCases.map { ($0.rawValue.lowercased(), .int(summary.counts[$0] ?? 0)) })
    }

    /// The workflow header shared by `status WORKFLOW`, `wait` and `watch`.
    package static func workflow(_ summary: StateCounts, tasks: [JSONValue], key: String = "workflow") -> JSONValue {
        .object([
            (key, .string(summary.name)),
            ("summary", .string(summary.description)),
            ("counts", counts(summary)),
            ("total", .int(summary.total)),
            ("finished", .bool(summary.isFinished)),
            ("succeeded", .bool(summary.succeeded)),
            ("tasks", .array(tasks)),
        ])
    }

    package static func time(_ milliseconds: Int64?) -> JSONValue {
        guard let milliseconds, milliseconds > 0 else { return .null }
        return .string(DurationText.iso8601(milliseconds: milliseconds))
    }

    /// "held by limit tenant-42 (2/2 running)" when the task's key is at the task's limit (it is
    /// parked, or will be when a claim reaches it); `nil` unless held. `status ID` says it too.
    package static func heldByLimit(_ task: TaskInfo, usage: LimitUsage?) -> String? {
        guard task.state == .pending, let key = task.concurrencyKey, let limit = task.concurrencyLimit, let usage, usage.running >= limit else { return nil }
        return "held by limit \(key) (\(usage.running)/\(limit) running)"
    }
}
