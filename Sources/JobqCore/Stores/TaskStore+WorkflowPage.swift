import JobqRedis

/// Where a paged read of a workflow's task index (`wf:<wf>:tasks`, scored by submission order)
/// stopped: the score of the last id returned. A score rather than an offset, so that tasks that
/// retention deletes meanwhile do not make the next page skip any.
public struct WorkflowPageCursor: Sendable, Hashable, CustomStringConvertible {
    package var score: String

    /// The cursor as text (a page link's `after=`): the score itself.
    public var description: String { score }

    /// A cursor from its text; `nil` unless it is a number (a score of the task index).
    public init?(_ text: String) {
        guard !text.isEmpty, Double(text) != nil else { return nil }
        score = text
    }

    package init(score: String) {
        self.score = score
    }
}

extension TaskStore {
    /// One page of a workflow's task ids in submission order: at most `limit` (1…1,000) per
    /// round trip, never one unbounded reply.
    package func taskIDs(inWorkflow workflow: String, after cursor: WorkflowPageCursor?, limit: Int) async throws(JobqError) -> (ids: [String], next: WorkflowPageCursor?) {
        try Validation.check(name: workflow, as: .workflow)
        let count = min(max(limit, 1), 1000)
        let from = cursor.map { "(" + $0.score } ?? "-inf"
        let reply = try await runner.send(RedisCommand("ZRANGE", [
            RedisArgument(runner.keys.workflowTasks(workflow)), RedisArgument(from), "+inf", "BYSCORE", "LIMIT", 0, RedisArgument(count), "WITHSCORES",
        ]), doing: "list workflow")
        let items = (reply.array ?? []).compactMap(\.string)
        var ids: [String] = []
        var last: String?
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            ids.append(items[index])
            last = items[index + 1]
        }
        let next = ids.count == count ? last.map { WorkflowPageCursor(score: $0) } : nil
        return (ids, next)
    }
}
