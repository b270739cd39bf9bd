/// Counts per state of a set of tasks: asynciojobs' "2D + 3R + 4P" line.
///
/// The same rendering as the engine's `WorkflowSummary`, for any set of tasks (one task, a
/// filtered list), built by the CLI and the dashboard.
package struct StateCounts: Sendable, Hashable, CustomStringConvertible {
    package var name: String
    package var counts: [TaskState: Int]

    package init(name: String, counts: [TaskState: Int]) {
        self.name = name
        self.counts = counts
    }

    package init(_ summary: WorkflowSummary) {
        self.init(name: summary.workflow, counts: summary.counts)
    }

    package init(name: String, states: [TaskState?]) {
        var counts: [TaskState: Int] = [:]
        for state in states { if let state { counts[state, default: 0] += 1 } }
        self.init(name: name, counts: counts)
    }

    package var total: Int { counts.values.reduce(0, +) }
    package var isFinished: Bool { total > 0 && counts.allSatisfy { $0.key.isTerminal || $0.value == 0 } }
    package var succeeded: Bool { isFinished && (counts[.done] ?? 0) + (counts[.skipped] ?? 0) == total }

    /// The order of the summary line: finished work first, as in asynciojobs' "2D + 3R + 4I".
    package static let order: [TaskState] = [.done, .skipped, .running, .pending, .failed, .cancelled]

    /// "3D + 1R + 2P + 1F" in ``order``, omitting zeros ("0" when empty).
    package var description: String {
        let parts = Self.order.compactMap { state -> String? in
            let n = counts[state] ?? 0
            return n > 0 ? "\(n)\(state.letter)" : nil
        }
        return parts.isEmpty ? "0" : parts.joined(separator: " + ")
    }
}
