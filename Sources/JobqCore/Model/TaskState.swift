/// Where a task is in its life.
///
/// PENDING covers every "not yet running" situation (waiting for prerequisites, queued, or waiting
/// for a retry/delay time); the task hash's other fields say which. DONE, SKIPPED, FAILED and
/// CANCELLED are terminal. SKIPPED is a state of its own, not DONE with a flag (docs/state-machine.md):
/// workflow summaries count it apart ("2D + 1S"), `jobq list --state SKIPPED` finds it, and a skipped
/// task never looks DONE anywhere; its dependents still run, as after success (upsies' SKIPPED).
public enum TaskState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case pending = "PENDING"
    case running = "RUNNING"
    case done = "DONE"
    /// Ended without doing its work: the handler skipped, a `failure` edge's condition could no
    /// longer hold, or its precondition (`skip_if` / `run_if`) said so. Counts as success for
    /// `success` edges.
    case skipped = "SKIPPED"
    case failed = "FAILED"
    case cancelled = "CANCELLED"

    /// DONE, SKIPPED, FAILED and CANCELLED never change again except through a `retry`.
    public var isTerminal: Bool {
        switch self {
        case .pending, .running: false
        case .done, .skipped, .failed, .cancelled: true
        }
    }

    /// The terminal states, each with its own index `s:<STATE>` (retention, `jobq list`, purge).
    public static let terminal: [TaskState] = [.done, .skipped, .failed, .cancelled]

    /// Whether the task ended in a way a `success` edge accepts (DONE or SKIPPED).
    public var isSuccessLike: Bool { self == .done || self == .skipped }

    public var description: String { rawValue }

    /// One-letter abbreviation used in workflow summaries ("2D + 3R + 4P"), after asynciojobs.
    public var letter: Character {
        switch self {
        case .pending: "P"
        case .running: "R"
        case .done: "D"
        case .skipped: "S"
        case .failed: "F"
        case .cancelled: "C"
        }
    }
}
