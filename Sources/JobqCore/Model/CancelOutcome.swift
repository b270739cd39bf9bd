/// The answer to a request to cancel one task.
public enum CancelOutcome: Sendable, Hashable {
    /// The task was pending and is now CANCELLED (with its `success` dependents).
    case cancelled
    /// The task is running; its worker is told and stops the handler.
    case requested
    /// The task is running and its cancellation had already been requested.
    case alreadyRequested
}

/// What cancelling a workflow did.
public struct WorkflowCancellation: Sendable, Hashable {
    /// Tasks that were pending and are now CANCELLED (their dependents included).
    public let cancelled: Int
    /// Running tasks whose workers were told to stop.
    public let requested: Int

    public init(cancelled: Int, requested: Int) {
        self.cancelled = cancelled
        self.requested = requested
    }
}
