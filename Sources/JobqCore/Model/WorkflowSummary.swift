/// Counts per state of a workflow's tasks: asynciojobs' "2D + 3R + 4P" line.
public struct WorkflowSummary: Sendable, Hashable, CustomStringConvertible {
    public var workflow: String
    public var counts: [TaskState: Int]
    public var total: Int { counts.values.reduce(0, +) }

    /// Every task has ended.
    public var isFinished: Bool { counts.filter { !$0.key.isTerminal }.values.allSatisfy { $0 == 0 } }
    /// Every task is DONE or SKIPPED (a skip is not a failure).
    public var succeeded: Bool { isFinished && (counts[.done] ?? 0) + (counts[.skipped] ?? 0) == total }

    /// "3D + 1R + 2P" in a fixed order (done, skipped, running, pending, failed, cancelled, as in
    /// asynciojobs), omitting zeros ("0" when empty).
    public var description: String {
        let parts = [TaskState.done, .skipped, .running, .pending, .failed, .cancelled].compactMap { state -> String? in
            let n = counts[state] ?? 0
            return n > 0 ? "\(n)\(state.letter)" : nil
        }
        return parts.isEmpty ? "0" : parts.joined(separator: " + ")
    }
}
