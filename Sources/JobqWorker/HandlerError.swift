import Jobq
import JobqCore

/// What a handler throws to say how its task should end, when "it failed, retry it" is not it.
///
/// Any other error a handler throws fails the attempt with reason `error` and retries it per the
/// task's backoff. A struct with an extensible ``Kind`` (like ``JobqError``), so new kinds never
/// break a caller's `switch`.
///
/// ```swift
/// guard needsWork else { throw HandlerError.skip("already resized") }
/// guard input.width > 0 else { throw HandlerError.permanent("width must be positive", reason: "invalid_input") }
/// guard upstream.isReady else { throw HandlerError.snooze(for: .seconds(30), "upstream not ready") }
/// ```
public struct HandlerError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Nothing to do: the task ends SKIPPED (reason `skipped`); dependents run as after success.
        public static let skip = Kind(rawValue: "skip")
        /// Retrying cannot help: the task ends FAILED now, whatever attempts remain.
        public static let permanent = Kind(rawValue: "permanent")
        /// Retry (if attempts remain), optionally after a delay of the handler's choosing.
        public static let retry = Kind(rawValue: "retry")
        /// Not yet: run again after ``HandlerError/snoozeFor`` without using an attempt, up to
        /// the task's `max_snoozes`.
        public static let snooze = Kind(rawValue: "snooze")
        /// Backpressure: the task runs again after ``HandlerError/snoozeFor`` (as a snooze) and
        /// its rate key pauses as long: no task of the key starts before then.
        public static let rateLimited = Kind(rawValue: "rate_limited")
        /// Wait for a signal (or an answer): thrown by ``HandlerContext/waitForSignal(_:timeout:)``
        /// and ``HandlerContext/ask(_:choices:timeout:)``, not by handlers themselves.
        public static let wait = Kind(rawValue: "wait")
    }

    public let kind: Kind
    /// A short stable word stored as the task's `reason` (`skipped`, `permanent_failure`, …).
    public let reason: String
    /// A human-readable explanation, stored as the task's error (skips: logged).
    public let message: String
    /// For ``Kind/retry``: overrides the task's backoff for this retry.
    public let retryAfter: Duration?
    /// For ``Kind/skip``: the result (JSON) stored with the SKIPPED task; `null` when absent.
    public let result: [UInt8]?
    /// For ``Kind/snooze``: how long the task waits before it runs again.
    public let snoozeFor: Duration?
    /// For ``Kind/wait``: the signal waited for.
    let signalWait: SignalWait?
    /// For ``Kind/wait``: the wait is for the task's spawned children (``HandlerContext/waitForChildren(key:)``).
    let waitsForChildren: Bool

    init(kind: Kind, reason: String, message: String, retryAfter: Duration? = nil, result: [UInt8]? = nil, snoozeFor: Duration? = nil,
         signalWait: SignalWait? = nil, waitsForChildren: Bool = false) {
        self.signalWait = signalWait
        self.waitsForChildren = waitsForChildren
        self.kind = kind
        self.reason = reason
        self.message = message
        self.retryAfter = retryAfter
        self.result = result
        self.snoozeFor = snoozeFor
    }

    /// Ends the task SKIPPED (upsies' and jobcontrol's SKIPPED); its dependents run.
    public static func skip(_ message: String = "skipped by the handler") -> HandlerError {
        HandlerError(kind: .skip, reason: "skipped", message: message)
    }

    /// Ends the task SKIPPED with `result` (encoded as JSON) as its result.
    public static func skip(_ message: String = "skipped by the handler", result: some Encodable) -> HandlerError {
        HandlerError(kind: .skip, reason: "skipped", message: message, result: try? PayloadCoding.encode(result))
    }

    /// Ends the task FAILED now, without retrying; its `success` dependents are cancelled.
    public static func permanent(_ message: String, reason: String = "permanent_failure") -> HandlerError {
        HandlerError(kind: .permanent, reason: reason, message: message)
    }

    /// Fails this attempt; the task runs again after `after` (default: its backoff) if attempts remain.
    public static func retry(_ message: String, after: Duration? = nil, reason: String = "error") -> HandlerError {
        HandlerError(kind: .retry, reason: reason, message: message, retryAfter: after)
    }

    /// Not yet: the task goes back to PENDING and runs again after `delay` (1 ms to 366 days, on
    /// Redis time) without using an attempt: for "the upstream file is not there yet", polling
    /// without holding a slot. Bounded by the task's `max_snoozes` (default 100): past it the
    /// snooze counts as a failed attempt (reason `snooze_limit`), retried per the backoff.
    /// A delay out of range fails the attempt (reason `bad_snooze`).
    public static func snooze(for delay: Duration, _ message: String = "snoozed by the handler") -> HandlerError {
        HandlerError(kind: .snooze, reason: "snoozed", message: message, snoozeFor: delay)
    }

    /// "Rate limited, retry after `retryAfter`" (an HTTP 429 from the service the handler
    /// calls): the task goes back without using an attempt, as a snooze (same `max_snoozes`
    /// budget), and its whole rate key (`rate_key`) pauses for `retryAfter`: no task of the key
    /// starts before then, on any worker. A task without a rate key is snoozed. 1 ms to 366 days.
    public static func rateLimited(retryAfter: Duration, _ message: String = "rate limited by the service") -> HandlerError {
        HandlerError(kind: .rateLimited, reason: "rate_limited", message: message, snoozeFor: retryAfter)
    }

    public var description: String { "\(kind): \(message)" }
}
