/// One transition from the audit stream (`jobq:{ns}:events`).
///
/// The scripts write stream entries of up to 50 transitions of one script call, one line each
/// (`"id from to attempt reason"`), so a batch of n transitions costs n/50 XADDs, not n;
/// ``decode(entryID:fields:)`` turns an entry back into records. A running task's cancellation request appears as
/// `RUNNING → RUNNING` with reason `cancel_requested`.
public struct TaskEventRecord: Sendable, Hashable {
    /// The stream entry id (`ms-seq`), the position to resume reading after.
    public var entryID: String
    public var task: String
    /// `nil` for the creation of a task.
    public var from: TaskState?
    public var to: TaskState?
    public var attempt: Int
    public var reason: String
    /// The script's "now" in milliseconds (Redis time in production).
    public var time: Int64
    /// Who asked for the change (an operator action's actor, the entry's `by` field: `alice@host`
    /// from the CLI, `token@10.0.0.5` from the dashboard); `nil` for the engine's own transitions.
    public var actor: String? = nil

    /// The records of one stream entry, given as its flat field list.
    public static func decode(entryID: String, fields: [String: String]) -> [TaskEventRecord] {
        let time = Int64(fields["ts"] ?? "") ?? 0
        return (fields["e"] ?? "").split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false)
            guard parts.count >= 4 else { return nil }
            return TaskEventRecord(
                entryID: entryID, task: String(parts[0]), from: TaskState(rawValue: String(parts[1])),
                to: TaskState(rawValue: String(parts[2])), attempt: Int(parts[3]) ?? 0,
                reason: parts.count > 4 ? String(parts[4]) : "", time: time, actor: fields["by"]
            )
        }
    }
}
