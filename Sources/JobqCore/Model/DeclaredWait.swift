/// A task that waits for a signal before it runs (`wait_for:` in a workflow file, `jobq submit
/// --wait-for`): the signal counts as one more unresolved prerequisite (`deps_left`), so the task
/// is dispatched once its prerequisites are done *and* the signal came — in either order.
///
/// The timeout runs from submission (the task waits for the signal and its prerequisites at the
/// same time), on Redis time; what happens then is ``OnTimeout``.
public struct DeclaredWait: Sendable, Hashable {
    /// What a declared wait does when its timeout passes without the signal.
    public enum OnTimeout: String, Sendable, Hashable, CaseIterable {
        /// FAILED, reason `signal_timeout`; dependents settle as after a failure.
        case fail
        /// SKIPPED, reason `signal_timeout`; dependents run as after a skip.
        case skip
        /// Run without the signal (once the prerequisites are done).
        case run
    }

    public var name: String
    public var timeout: Duration?
    public var onTimeout: OnTimeout

    public init(_ name: String, timeout: Duration? = nil, onTimeout: OnTimeout = .fail) {
        self.name = name
        self.timeout = timeout
        self.onTimeout = onTimeout
    }

    func validate(subject: String?) throws(JobqError) {
        try Validation.check(name: name, as: .signal)
        if let timeout {
            try Validation.check(timeout, in: .milliseconds(1)...(.seconds(366 * 24 * 3600)), "wait timeout")
        }
    }

    /// Reads ``scriptArgument`` back (a sub-workflow request carries it); `nil` when malformed.
    init?(scriptArgument text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let ms = Int64(parts[1]), ms >= 0, let action = OnTimeout(rawValue: parts[2]) else { return nil }
        self.init(parts[0], timeout: ms > 0 ? .milliseconds(ms) : nil, onTimeout: action)
    }

    /// submit.lua's argument: `name/timeout_ms/action` (timeout 0: none).
    var scriptArgument: String {
        "\(name)/\(max(timeout ?? .zero, .zero).jobqMilliseconds)/\(onTimeout.rawValue)"
    }
}
