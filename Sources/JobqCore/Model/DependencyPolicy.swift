/// What a dependent does when a prerequisite ends.
public enum DependencyPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Run only after the prerequisite is DONE; if it ends FAILED or CANCELLED, the dependent is
    /// CANCELLED (reason `dependency_failed`), transitively, and never runs. The default.
    case success
    /// Run once the prerequisite has ended, whatever its outcome (upsies' "guaranteed" jobs:
    /// clean-up, notifications).
    case always
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
