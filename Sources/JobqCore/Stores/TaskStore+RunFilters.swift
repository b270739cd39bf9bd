import JobqRedis

/// What a listing of runs keeps besides a definition and a state (the dashboard's runs page,
/// `jobq runs`): runs that use a queue, runs submitted within a time range.
package struct RunFilter: Sendable, Hashable {
    /// Runs one of whose first ``TaskStore/queueProbeTasks`` tasks (in submission order) is
    /// submitted to this queue.
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
    /// Tasks of a run whose queues a queue filter reads (a run's queues are in no index: its
    /// tasks' records say): bounded work per run looked at.
    package static let queueProbeTasks = 64
    /// runs.lua calls one filtered page may make before it answers with fewer runs and a cursor.
    static let filteredPageCalls = 8

    /// One page of runs, newest first, kept by `filter` as well. Time bounds are ranges of the
    /// runs index (its score is the submission time), so `until` starts the walk and `since`
    /// ends it; a queue filter reads the specs of the first ``queueProbeTasks`` tasks of each run
    /// looked at. Like ``runs(definition:state:after:limit:)``, a page may hold fewer than `limit`
    /// runs while its `next` is set.
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
            let page = try await runs(definition: definition, state: state, after: next, limit: limit - found.count)
            var batch = page.runs
            next = page.next
            if let since = filter.since {
                if let older = batch.firstIndex(where: { ($0.created ?? 0) < since }) {
                    batch = Array(batch[..<older])
                    next = nil
                }
                if let score = next.flatMap({ Int64($0.score) }), score < since { next = nil }
            }
            if let queue = filter.queue { batch = try await runs(batch, using: queue) }
            found += batch
            if next == nil || found.count >= limit { break }
        }
        return RunPage(runs: found, next: next)
    }

    /// The runs of `runs` one of whose first ``queueProbeTasks`` tasks is on `queue`: two
    /// pipelined round trips (the runs' first task ids, then those tasks' specs).
    private func runs(_ runs: [RunInfo], using queue: String) async throws(JobqError) -> [RunInfo] {
        guard !runs.isEmpty else { return [] }
        let lists = try await runner.pipeline(runs.map {
            RedisCommand("ZRANGE", [RedisArgument(runner.keys.workflowTasks($0.id)), 0, RedisArgument(Self.queueProbeTasks - 1)])
        }, doing: "read the queues of runs")
        let ids = lists.map { ($0.array ?? []).compactMap(\.string) }
        let queues = try await self.queues(of: Array(ids.joined()))
        return zip(runs, ids).filter { _, tasks in tasks.contains { queues[$0] == queue } }.map(\.0)
    }
}
