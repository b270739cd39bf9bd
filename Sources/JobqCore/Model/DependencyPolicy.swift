/// What a dependent does when a prerequisite ends.
public enum DependencyPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Run only after the prerequisite is DONE or SKIPPED; if it ends FAILED or CANCELLED, the
    /// dependent is CANCELLED (reason `dependency_failed`), transitively, and never runs (it could
    /// not run because something broke; `jobq retry` re-opens it). The default.
    case success
    /// Run once the prerequisite has ended, whatever its outcome (upsies' "guaranteed" jobs:
    /// clean-up, notifications).
    case always
    /// Run only if the prerequisite ended FAILED (error handlers, compensation). When it ends
    /// DONE, SKIPPED or CANCELLED the condition can no longer hold: the dependent ends SKIPPED
    /// (reason `condition_unmet`, `cause` the prerequisite), and its own dependents run.
    case failure

    /// Whether an edge of this policy lets the dependent run after the prerequisite ended `state`.
    public func accepts(_ state: TaskState) -> Bool {
        switch self {
        case .success: state.isSuccessLike
        case .always: state.isTerminal
        case .failure: state == .failed
        }
    }
}

/// One dependency edge, as seen from the dependent.
public struct Prerequisite: Sendable, Hashable, Codable {
    public var id: String
    public var policy: DependencyPolicy

    public init(_ id: String, policy: DependencyPolicy = .success) {
        self.id = id
        self.policy = policy
    }
}
