import JobqCore

/// Which transitions `jobq events` and the dashboard's live feed show: those of a run (its
/// tasks' lines and its own `@RUN` lines), of one task, of one queue — all that are given must
/// hold.
///
/// The queue is not in an event line, so a queue filter needs the tasks' queues from a
/// ``TaskQueueCache``: `jobq events` keeps one of its own (``matching(_:client:)``); the
/// dashboard's hub keeps one for all its browser tabs and asks ``matches(_:queue:)`` per line.
package struct EventFilter: Sendable {
    package let run: String?
    package let task: String?
    package let queue: String?
    private var queues = TaskQueueCache()

    /// Checks the names with the grammar the rest of jobq uses (`invalid_name`, exit 64). A run
    /// or task that does not exist is not an error: with `-f`, its events may come later.
    package init(run: String?, task: String?, queue: String?) throws(JobqError) {
        if let run { try Validation.check(name: run, as: .run) }
        if let task { try Validation.check(taskID: task) }
        if let queue { try Validation.check(name: queue, as: .queue) }
        self.run = run
        self.task = task
        self.queue = queue
    }

    /// Whether nothing is filtered out.
    package var isEmpty: Bool { run == nil && task == nil && queue == nil }

    /// The records that pass, in their order (reading the queues of tasks not seen before).
    package mutating func matching(_ records: [TaskEventRecord], client: JobqClient) async throws(JobqError) -> [TaskEventRecord] {
        let candidates = records.filter(matchesIDs)
        guard queue != nil else { return candidates }
        try await queues.learn(candidates, client: client)
        return candidates.filter { matches($0, queue: queues[$0.task]) }
    }

    /// Whether `record`, of a task in `queue` (`nil`: unknown, no record, or not a task line),
    /// passes.
    package func matches(_ record: TaskEventRecord, queue taskQueue: String?) -> Bool {
        guard matchesIDs(record) else { return false }
        guard let queue else { return true }
        if let lineQueue = record.pausedQueue { return lineQueue == queue }
        return record.isTaskLine && taskQueue == queue
    }

    private func matchesIDs(_ record: TaskEventRecord) -> Bool {
        if let run, record.run != run { return false }
        if let task, !record.isTaskLine || record.task != task { return false }
        return true
    }
}

/// Task id → its queue, for the task lines of the stream (event lines do not carry the queue):
/// one pipelined read per batch for the tasks not seen before, then cached (a task never changes
/// queue). A task whose record is gone (retention, purge) has no queue any more. Cleared when it
/// grows past ``limit`` so that following a busy namespace for days stays bounded in memory.
package struct TaskQueueCache: Sendable {
    private var queues: [String: String?] = [:]
    package static let limit = 100_000

    package init() {}

    /// The queue of a task learnt before; `nil` when unknown or without a record.
    package subscript(task: String) -> String? { queues[task] ?? nil }

    /// Reads the queues of the task lines of `records` not seen before, in one round trip.
    package mutating func learn(_ records: [TaskEventRecord], client: JobqClient) async throws(JobqError) {
        var unknown: [String] = []
        var seen = Set<String>()
        for record in records where record.isTaskLine && queues.index(forKey: record.task) == nil && seen.insert(record.task).inserted {
            unknown.append(record.task)
        }
        guard !unknown.isEmpty else { return }
        if queues.count + unknown.count > Self.limit { queues.removeAll(keepingCapacity: true) }
        let found = try await client.queues(ofTasks: unknown)
        for id in unknown { queues[id] = .some(found[id]) }
    }
}
