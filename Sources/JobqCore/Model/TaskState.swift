/// Where a task is in its life.
///
/// PENDING covers every "not yet running" situation (waiting for prerequisites, queued, or waiting
/// for a retry/delay time); the task hash's other fields say which. DONE, FAILED and CANCELLED are
/// terminal. A skipped task is DONE with `skipped = true`: dependents treat it as success, exactly as
/// upsies' and jobcontrol's SKIPPED outcomes do, so it needs no state of its own.
public enum TaskState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case pending = "PENDING"
    case running = "RUNNING"
    case done = "DONE"
    case failed = "FAILED"
    case cancelled = "CANCELLED"

    /// DONE, FAILED and CANCELLED never change again except through an explicit `retry`.
    public var isTerminal: Bool {
        switch self {
        case .pending, .running: false
        case .done, .failed, .cancelled: true
        }
    }

    public var description: String { rawValue }

    /// One-letter abbreviation used in workflow summaries ("2D + 3R + 4P"), after asynciojobs.
    public var letter: Character {
        switch self {
        case .pending: "P"
        case .running: "R"
        case .done: "D"
        case .failed: "F"
        case .cancelled: "C"
        }
    }
}
