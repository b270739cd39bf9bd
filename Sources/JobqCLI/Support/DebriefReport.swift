import Jobq
import JobqCore

/// What `jobq debrief` reports: the tasks that FAILED or were CANCELLED (each with its error
/// and attempt history), the dependents they took down collapsed into one group per root cause,
/// and the tasks that succeeded only after failed attempts.
///
/// Read in pages of ``pageSize`` ids (records, then histories of the tasks worth showing), so a
/// workflow of any size never needs one unbounded reply; only what is reported is kept (payloads
/// and results dropped).
struct DebriefReport: Sendable {
    /// A FAILED task, or one CANCELLED for a reason of its own (by request, …).
    struct Problem: Sendable {
        var info: TaskInfo
        var history: AttemptHistory
        /// Tasks cancelled (transitively) because this one did not succeed.
        var tookDown = 0
    }

    /// Tasks cancelled with reason `dependency_failed` whose chain of causes leads to `root`.
    struct DependencyGroup: Sendable {
        var root: String
        /// `nil`: the root's record is gone (retention, purge).
        var rootState: TaskState?
        var count: Int
        /// The first ``DebriefReport/groupIDsKept`` of them, in reading order.
        var ids: [String]
    }

    /// A DONE task with failed attempts (or worker deaths) in its history.
    struct Recovered: Sendable {
        var info: TaskInfo
        var history: AttemptHistory
    }

    static let pageSize = 200
    static let groupIDsKept = 50
    /// Bound on following `cause` links (a chain longer than any workflow allows is corrupt).
    static let maxCauseChain = 100_000

    /// The workflow, or the single task id, or "N tasks".
    var name: String
    var workflow: String?
    var total = 0
    var problems: [Problem] = []
    var groups: [DependencyGroup] = []
    var recovered: [Recovered] = []
    var unfinished = 0

    var failedCount: Int { problems.count { $0.info.state == .failed } }
    var cancelledCount: Int { problems.count { $0.info.state == .cancelled } }
    var dependencyCount: Int { groups.reduce(0) { $0 + $1.count } }
    /// Whether anything FAILED or was CANCELLED: the exit status is 1 then, as for `wait`.
    var hasFailures: Bool { !problems.isEmpty || dependencyCount > 0 }

    /// `nightly: 2 failed, 12 cancelled (dependency), 1 recovered after retries`.
    var summary: String {
        var parts: [String] = []
        if failedCount > 0 { parts.append("\(failedCount) failed") }
        if cancelledCount > 0 { parts.append("\(cancelledCount) cancelled") }
        if dependencyCount > 0 { parts.append("\(dependencyCount) cancelled (dependency)") }
        if !recovered.isEmpty { parts.append("\(recovered.count) recovered after retries") }
        if unfinished > 0 { parts.append("\(unfinished) not finished") }
        if parts.isEmpty { parts.append("nothing failed (\(total) task\(total == 1 ? "" : "s"))") }
        return name + ": " + parts.joined(separator: ", ")
    }

    /// The report for explicit task ids; an id with no record is `not_found` (exit 66).
    static func load(ids: [String], client: JobqClient) async throws(JobqError) -> DebriefReport {
        for id in ids { try Validation.check(taskID: id) }
        var collector = Collector(report: DebriefReport(name: ids.count == 1 ? ids[0] : "\(ids.count) tasks"))
        var start = ids.startIndex
        while start < ids.endIndex {
            let page = Array(ids[start..<min(start + pageSize, ids.endIndex)])
            let infos = try await client.tasks(page)
            if let missing = zip(page, infos).first(where: { $0.1 == nil })?.0 {
                throw JobqError(.notFound, "no task \(missing) (never submitted, or its retention expired)", subject: missing)
            }
            try await collector.add(infos.compactMap { $0 }, client: client)
            start += page.count
        }
        return try await collector.finish(client: client)
    }

    /// The report for every task of `workflow`, read a page at a time; `not_found` when it has none.
    static func load(workflow: String, client: JobqClient) async throws(JobqError) -> DebriefReport {
        var report = DebriefReport(name: workflow)
        report.workflow = workflow
        var collector = Collector(report: report)
        var cursor: WorkflowPageCursor?
        repeat {
            let page = try await client.taskIDs(inWorkflow: workflow, after: cursor, limit: pageSize)
            // A task deleted by retention since the index was read is simply not reported.
            try await collector.add(try await client.tasks(page.ids).compactMap { $0 }, client: client)
            cursor = page.next
        } while cursor != nil
        guard collector.report.total > 0 else {
            throw JobqError(.notFound, "no workflow \(workflow) (never submitted, or its tasks' retention expired); see what exists with: jobq list", subject: workflow)
        }
        return try await collector.finish(client: client)
    }

    /// Accumulates pages; resolves the dependency groups at the end, when every cause link of
    /// the target is known.
    private struct Collector {
        var report: DebriefReport
        /// Dependency-cancelled task → its `cause`, in reading order.
        var causes: [String: String] = [:]
        var cancelledOrder: [String] = []

        mutating func add(_ infos: [TaskInfo], client: JobqClient) async throws(JobqError) {
            var problems: [TaskInfo] = []
            var done: [TaskInfo] = []
            for var info in infos {
                report.total += 1
                info.payload = []
                info.result = nil
                switch info.state {
                case .failed:
                    problems.append(info)
                case .cancelled:
                    if info.reason == "dependency_failed", let cause = info.cause {
                        causes[info.id] = cause
                        cancelledOrder.append(info.id)
                    } else {
                        problems.append(info)
                    }
                case .done, .skipped:
                    done.append(info)
                case .pending, .running, nil:
                    report.unfinished += 1
                }
            }
            // A DONE task is worth a history read only when it has entries stored: its last
            // attempt's is read from its record (one stored entry may be that one, written by a
            // version before this; the read then finds nothing unsuccessful).
            let counts = try await client.attemptCounts(of: done.map(\.id))
            let candidates = zip(done, counts).filter { $0.1 > 0 }.map(\.0)
            let histories = try await client.attempts(of: problems.map(\.id) + candidates.map(\.id))
            for (info, history) in zip(problems, histories) {
                report.problems.append(Problem(info: info, history: history))
            }
            for (info, history) in zip(candidates, histories.dropFirst(problems.count)) where history.unsuccessful > 0 {
                report.recovered.append(Recovered(info: info, history: history))
            }
        }

        /// Groups the dependency cancellations by root cause (the first task up the `cause` chain
        /// that was not itself cancelled by a dependency) and reads the states of roots outside
        /// what was read.
        mutating func finish(client: JobqClient) async throws(JobqError) -> DebriefReport {
            var groups: [String: DependencyGroup] = [:]
            var order: [String] = []
            for id in cancelledOrder {
                var root = causes[id]!
                var steps = 0
                while let next = causes[root], steps < DebriefReport.maxCauseChain {
                    root = next
                    steps += 1
                }
                if groups[root] == nil {
                    groups[root] = DependencyGroup(root: root, rootState: nil, count: 0, ids: [])
                    order.append(root)
                }
                groups[root]!.count += 1
                if groups[root]!.ids.count < DebriefReport.groupIDsKept { groups[root]!.ids.append(id) }
            }
            var known: [String: TaskState] = [:]
            for problem in report.problems { if let state = problem.info.state { known[problem.info.id] = state } }
            let outside = order.filter { known[$0] == nil }
            var start = 0
            while start < outside.count {
                let page = Array(outside[start..<min(start + DebriefReport.pageSize, outside.count)])
                for (id, state) in zip(page, try await client.states(of: page)) { if let state { known[id] = state } }
                start += page.count
            }
            report.groups = order.map { root in
                var group = groups[root]!
                group.rootState = known[root]
                return group
            }
            for index in report.problems.indices {
                report.problems[index].tookDown = groups[report.problems[index].info.id]?.count ?? 0
            }
            return report
        }
    }
}
