import JobqCore

/// Waiting without polling: block on the event stream (XREAD BLOCK on the client's blocking
/// lane) and look at the tasks only when one of their events goes by.
///
/// One loop (``follow(timeout:reconnect:load:isFinished:concerns:block:onEach:)``) serves the
/// library's `wait`, and `jobq wait` / `jobq watch`. It is a read, so it survives a Redis
/// restart the way workers do: a lost connection is retried with a bounded backoff, the tasks
/// are looked at again once it is back, and only a connection that stays lost longer than
/// ``ReconnectPolicy/budget`` (or the caller's timeout) ends the wait — with a message about a
/// wait, not about a change that "may or may not have been applied".
extension JobqClient {
    /// How long a wait keeps trying to get its connection back.
    public struct ReconnectPolicy: Sendable, Hashable {
        /// The longest stretch of failed attempts before giving up.
        public var budget: Duration
        /// The first pause; each failed attempt doubles it, up to ``maximumDelay``.
        public var initialDelay: Duration
        public var maximumDelay: Duration

        public init(budget: Duration = .seconds(30), initialDelay: Duration = .milliseconds(100), maximumDelay: Duration = .seconds(2)) {
            self.budget = budget
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
        }
    }

    /// How ``follow(timeout:reconnect:load:isFinished:concerns:block:onEach:)`` ended.
    public enum FollowOutcome<Value> {
        /// `isFinished` said yes to this value.
        case finished(Value)
        /// The timeout passed first; the last value seen.
        case timedOut(Value)
    }

    /// Returns the task once it is DONE, FAILED or CANCELLED. Throws `timeout` after `timeout`.
    public func wait(for id: String, timeout: Duration? = nil) async throws(JobqError) -> TaskInfo {
        let outcome = try await follow(
            timeout: timeout,
            load: { () throws(JobqError) -> TaskInfo in try await status(id) },
            isFinished: { $0.state?.isTerminal == true },
            concerns: { _, touched in touched.contains(id) }
        )
        switch outcome {
        case .finished(let info): return info
        case .timedOut: throw JobqError(.timeout, "gave up waiting for task \(id) after \(DurationText.format(timeout ?? .zero))", subject: id)
        }
    }

    /// Returns the workflow's summary once every task has ended. Throws `timeout`.
    public func wait(forWorkflow workflow: String, timeout: Duration? = nil) async throws(JobqError) -> WorkflowSummary {
        let ids = Set(try await taskIDs(inWorkflow: workflow))
        guard !ids.isEmpty else { throw JobqError(.notFound, "no workflow \(workflow)", subject: workflow) }
        let outcome = try await follow(
            timeout: timeout,
            load: { () throws(JobqError) -> WorkflowSummary in try await summary(workflow: workflow) },
            isFinished: { $0.isFinished },
            concerns: { _, touched in !touched.isDisjoint(with: ids) }
        )
        switch outcome {
        case .finished(let summary): return summary
        case .timedOut(let summary):
            throw JobqError(.timeout, "gave up waiting for workflow \(workflow) after \(DurationText.format(timeout ?? .zero)) (\(summary))", subject: workflow)
        }
    }

    /// The wait loop: `load`s the value, then, until `isFinished` says yes, blocks on the event
    /// stream and loads again when an event `concerns` the value, after a quiet `block` (events
    /// may have been trimmed from the capped stream; workflows may gain tasks), and after a
    /// reconnection. `onEach` sees the value before each wait (for live output).
    ///
    /// - Returns: `.finished` or, once `timeout` has passed, `.timedOut` with the last value.
    /// - Throws: what `load` throws, and `redis_unavailable` when the connection stays lost for
    ///   longer than `reconnect.budget`.
    public func follow<Value>(
        timeout: Duration?,
        reconnect: ReconnectPolicy = ReconnectPolicy(),
        load: () async throws(JobqError) -> Value,
        isFinished: (Value) -> Bool,
        concerns: (Value, Set<String>) -> Bool,
        block: (Value) -> Duration = { _ in .seconds(5) },
        onEach: (Value) -> Void = { _ in }
    ) async throws(JobqError) -> FollowOutcome<Value> {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        var retry = Reconnection(policy: reconnect, deadline: deadline)
        // Read the stream position first, so no event between the look and the wait is missed.
        var position = try await retry.run { () throws(JobqError) in try await lastEventID() }
        var value = try await retry.run(load)
        var loaded = clock.now
        while true {
            onEach(value)
            if isFinished(value) { return .finished(value) }
            var wait = block(value)
            if let deadline {
                let left = deadline - clock.now
                guard left > .zero else { return .timedOut(value) }
                wait = min(wait, left)
            }
            let reconnections = retry.reconnections
            let from = position
            let (records, next): ([TaskEventRecord], String)
            do {
                (records, next) = try await retry.run { () throws(JobqError) in try await events(after: from, block: wait) }
            } catch where error.code == .timeout && deadline.map({ clock.now >= $0 }) == true {
                return .timedOut(value)
            }
            position = next
            let touched = Set(records.map(\.task))
            if touched.isEmpty || concerns(value, touched) || retry.reconnections != reconnections || clock.now - loaded > .seconds(5) {
                do {
                    value = try await retry.run(load)
                } catch where error.code == .timeout && deadline.map({ clock.now >= $0 }) == true {
                    return .timedOut(value)
                }
                loaded = clock.now
            }
        }
    }
}

/// Retries reads while the connection is lost (``JobqError/isConnectionLoss``), with doubling
/// pauses, for at most the policy's budget per outage and never past the caller's deadline.
struct Reconnection {
    let policy: JobqClient.ReconnectPolicy
    let deadline: ContinuousClock.Instant?
    /// How many outages ended with a successful call (the caller then looks again).
    private(set) var reconnections = 0

    init(policy: JobqClient.ReconnectPolicy, deadline: ContinuousClock.Instant?) {
        self.policy = policy
        self.deadline = deadline
    }

    mutating func run<T>(_ body: () async throws(JobqError) -> T) async throws(JobqError) -> T {
        let clock = ContinuousClock()
        var lostSince: ContinuousClock.Instant?
        var pause = policy.initialDelay
        while true {
            do {
                let result = try await body()
                if lostSince != nil { reconnections += 1 }
                return result
            } catch where error.isConnectionLoss {
                let now = clock.now
                let since = lostSince ?? now
                lostSince = since
                let budgetEnd = since + policy.budget
                if let deadline, deadline <= budgetEnd, now >= deadline {
                    throw JobqError(.timeout, "the connection to Redis was lost until the timeout passed: \(error.message)", underlying: error.underlying)
                }
                guard now < budgetEnd else {
                    throw JobqError(
                        .redisUnavailable,
                        "lost the connection to Redis while waiting and could not get it back within \(DurationText.format(policy.budget)); nothing was changed, the tasks go on — wait again once Redis is back (last error: \(error.message))",
                        underlying: error.underlying
                    )
                }
                let end = min(budgetEnd, deadline ?? budgetEnd)
                do {
                    try await Task.sleep(for: min(pause, max(.milliseconds(1), end - now)))
                } catch {
                    throw JobqError(.cancelled, "waiting: cancelled", underlying: error)
                }
                pause = min(pause * 2, policy.maximumDelay)
            }
        }
    }
}
