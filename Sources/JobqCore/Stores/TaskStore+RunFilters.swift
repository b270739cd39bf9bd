import JobqRedis

/// What a listing of runs keeps besides a definition and a state (the dashboard's runs page,
/// `jobq runs`): runs that use a queue, runs submitted within a time range.
package struct RunFilter: Sendable, Hashable {
    /// Runs one of whose tasks was submitted to this queue (in any of the run's submit calls;
    /// recorded at submit in the `q:<queue>:runs` index).
    package var queue: String?
    /// Submitted at or after / at or before (Redis ms).
    package var since: Int64?
    package var until: Int64?

    package init(queue: String? = nil, since: Int64? = nil, until: Int64? = nil) {
        self.queue = queue
        self.since = since
        self.until = until
    }

    package var isEmpty: Bool { queue == nil && since == nil && until == nil }
}

extension TaskStore {
    /// runs.lua calls one filtered page may make before it answers with fewer runs and a cursor.
    static let filteredPageCalls = 8

    /// One page of runs, newest first, kept by `filter` as well. A queue filter walks the
    /// queue's runs index (`q:<queue>:runs`, written at submit) instead of every run, so it is
    /// exact for any task of a run and costs no read of tasks; time bounds are ranges of the
    /// index walked (its score is the submission time), so `until` starts the walk and `since`
    /// ends it. Like ``runs(definition:state:queue:after:limit:)``, a page may hold fewer than
    /// `limit` runs while its `next` is set.
    package func runs(definition: String? = nil, state: RunState? = nil, filter: RunFilter, after cursor: RunCursor? = nil, limit: Int = 50) async throws(JobqError) -> RunPage {
        guard !filter.isEmpty else { return try await runs(definition: definition, state: state, after: cursor, limit: limit) }
        if let queue = filter.queue { try Validation.check(name: queue, as: .queue) }
        if let since = filter.since, let until = filter.until, since > until {
            throw JobqError(.invalidOption, "since (\(since)) is after until (\(until)): no run can match", subject: "since")
        }
        var next = cursor
        if let until = filter.until, (next.flatMap { Int64($0.score) } ?? .max) > until {
            next = RunCursor(score: String(until), id: "") // the walk starts at `until` (inclusive)
        }
        var found: [RunInfo] = []
        for _ in 0..<Self.filteredPageCalls {
            let page = try await runs(definition: definition, state: state, queue: filter.queue, after: next, limit: limit - found.count)
            var batch = page.runs
            next = page.next
            if let since = filter.since {
                if let older = batch.firstIndex(where: { ($0.created ?? 0) < since }) {
                    batch = Array(batch[..<older])
                    next = nil
                }
                if let score = next.flatMap({ Int64($0.score) }), score < since { next = nil }
            }
            found += batch
            if next == nil || found.count >= limit { break }
        }
        return RunPage(runs: found, next: next)
    }
}
