/// Where a workflow run is in its life (docs/state-machine.md, "Runs").
///
/// The run's state follows its tasks', in the same script calls that change them: PENDING until
/// its first task is claimed, RUNNING, and once every task has ended: FAILED with a
/// ``RunInfo/reason`` when a run-level rule stopped it (`deadline`, `fail_fast`); else DONE when
/// none FAILED or was CANCELLED; CANCELLED when the run was cancelled (`jobq cancel RUN`);
/// FAILED otherwise. A retry that re-opens a task makes an ended run RUNNING again.
public enum RunState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case pending = "PENDING"
    case running = "RUNNING"
    case done = "DONE"
    case failed = "FAILED"
    case cancelled = "CANCELLED"

    public var isTerminal: Bool {
        switch self {
        case .pending, .running: false
        case .done, .failed, .cancelled: true
        }
    }

    public var description: String { rawValue }
}
