import Foundation
import JobqCore

/// The `--json` shapes of tasks, workflows and progress: one place, so field names stay stable.
///
/// Field names are snake_case; times are ISO 8601 UTC strings (`null` when not reached); payloads
/// and results are embedded as JSON values, exactly as stored.
enum TaskJSON {
    /// The short form used by `list` and in workflow tables.
    static func summary(_ info: TaskInfo) -> JSONValue {
        .object(summaryFields(info))
    }

    private static func summaryFields(_ info: TaskInfo) -> [(String, JSONValue)] {
        [
            ("id", .string(info.id)),
            ("title", .string(info.title)),
            ("handler", .string(info.handler)),
            ("queue", .string(info.queue)),
            ("workflow", .optional(info.workflow)),
            ("state", .optional(info.state?.rawValue)),
            ("reason", .optional(info.reason)),
            ("error", .optional(info.error)),
            ("attempts", .int(info.attempts)),
            ("max_attempts", .int(info.maxAttempts)),
            ("created_at", time(info.created)),
            ("started_at", time(info.started)),
            ("finished_at", time(info.finished)),
        ]
    }

    /// Everything `status ID --json` shows.
    static func detail(_ info: TaskInfo, prerequisiteStates: [String: TaskState?], progress: [ProgressEntry]) -> JSONValue {
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
            ("worker_deaths", .int(info.workerDeaths)),
            ("suspect_level", .int(info.suspectLevel)),
            ("prerequisites", .array(prerequisites)),
            ("unresolved_prerequisites", .int(info.unresolvedPrerequisites)),
            ("worker", .optional(info.worker)),
            ("run_after", time(info.runAfter)),
            ("lease_deadline", time(info.leaseDeadline)),
            ("timeout_ms", .int(info.timeout.inMilliseconds)),
            ("result_ttl_ms", .int(info.resultTTL.inMilliseconds)),
            ("payload", .stored(info.payload)),
            ("result", info.state?.isSuccessLike == true ? .stored(info.result) : .null),
            ("progress", .array(progress.map(self.progress))),
        ])
    }

    static func progress(_ entry: ProgressEntry) -> JSONValue {
        .object([
            ("group", .array(entry.group.map { .string($0) })),
            ("current", .int(entry.current)),
            ("total", .int(entry.total)),
            ("percent", entry.fraction.map { .number(String(format: "%.1f", $0 * 100)) } ?? .null),
            ("status", .string(entry.status)),
        ])
    }

    /// `{"pending": n, "running": n, "done": n, "failed": n, "cancelled": n}` in that order.
    static func counts(_ summary: StateCounts) -> JSONValue {
        .object(TaskState.allCases.map { ($0.rawValue.lowercased(), .int(summary.counts[$0] ?? 0)) })
    }

    /// The workflow header shared by `status WORKFLOW`, `wait` and `watch`.
    static func workflow(_ summary: StateCounts, tasks: [JSONValue], key: String = "workflow") -> JSONValue {
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

    static func time(_ milliseconds: Int64?) -> JSONValue {
        guard let milliseconds, milliseconds > 0 else { return .null }
        return .string(DurationText.iso8601(milliseconds: milliseconds))
    }
}
