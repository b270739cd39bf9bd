import Jobq
import JobqCore

/// Which transitions `jobq events` shows: those of a run (its tasks' lines and its own `@RUN`
/// lines), of one task, of one queue — all that are given must hold.
///
/// The queue is not in an event line, so `--queue` reads it from the task records' packed
/// `spec`: one pipelined read per page of events for the tasks not seen before, then cached per
/// task id (a task never changes queue). A task whose record is gone (retention, purge) has no
/// queue any more, so its events do not match a queue filter; run-level lines never do.
struct EventFilter {
    let run: String?
    let task: String?
    let queue: String?
    /// Task id → its queue, `nil` when it has no record. Cleared when it grows past
    /// ``cacheLimit`` so that following a busy namespace for days stays bounded in memory.
    private var queues: [String: String?] = [:]
    static let cacheLimit = 100_000

    /// Checks the names with the grammar the rest of jobq uses (`invalid_name`, exit 64). A run
    /// or task that does not exist is not an error: with `-f`, its events may come later.
    init(run: String?, task: String?, queue: String?) throws(JobqError) {
        if let run { try Validation.check(name: run, as: .run) }
        if let task { try Validation.check(taskID: task) }
        if let queue { try Validation.check(name: queue, as: .queue) }
        self.run = run
        self.task = task
        self.queue = queue
    }

    /// The records that pass, in their order.
    mutating func matching(_ records: [TaskEventRecord], client: JobqClient) async throws(JobqError) -> [TaskEventRecord] {
        let candidates = records.filter(matchesIDs)
        guard let queue else { return candidates }
        var unknown: [String] = []
        var seen = Set<String>()
        for record in candidates where !record.isRunLine && record.schedule == nil && queues.index(forKey: record.task) == nil && seen.insert(record.task).inserted {
            unknown.append(record.task)
        }
        if !unknown.isEmpty {
            if queues.count + unknown.count > Self.cacheLimit { queues.removeAll(keepingCapacity: true) }
            let found = try await client.queues(ofTasks: unknown)
            for id in unknown { queues[id] = .some(found[id]) }
        }
        return candidates.filter { !$0.isRunLine && $0.schedule == nil && queues[$0.task] == .some(queue) }
    }

    private func matchesIDs(_ record: TaskEventRecord) -> Bool {
        if let run, record.run != run { return false }
        if let task, record.isRunLine || record.schedule != nil || record.task != task { return false }
        return true
    }
}

extension TaskEventRecord {
    /// A run-level line (`@RUN FROM TO 0 reason`), not a task's or a schedule's.
    var isRunLine: Bool { task.hasPrefix("@") && schedule == nil }

    /// The schedule of a schedule line (`@sched:NAME - WHAT 0 WHAT[:RUN|TICK]`, schedule.lua),
    /// `nil` for any other line.
    var schedule: String? { task.hasPrefix("@sched:") ? String(task.dropFirst("@sched:".count)) : nil }

    /// The run the line belongs to: the run of a run-level line, or of a task `RUN/KEY`; `nil`
    /// for a standalone task and a schedule line.
    var run: String? {
        if schedule != nil { return nil }
        return isRunLine ? String(task.dropFirst()) : RunScope.run(of: task)
    }
}
