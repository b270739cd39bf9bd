import Foundation

/// A time a submission fixes: an interval after the submission (measured on Redis's clock, so
/// producers' clocks never matter) or an absolute time. One type for every such option — a run's
/// ``RunOptions/deadline``, a task's ``TaskSpec/expires`` — so that they read, parse and validate
/// alike.
public enum Deadline: Sendable, Hashable {
    case after(Duration)
    case at(Date)

    /// Throws `invalid_option` unless the time is at least 1 ms after the submission (or, absolute,
    /// after `now` on this machine's clock: a quick clear error; the script checks again on
    /// Redis's) and at most `maximum` away. `what` names the option in the message ("the run's
    /// deadline").
    public func validate(_ what: String, maximum: Duration = Limits.maxRunDeadline, now: Date = Date(), subject: String? = nil) throws(JobqError) {
        switch self {
        case .after(let duration):
            guard duration >= .milliseconds(1) else {
                throw JobqError(.invalidOption, "\(what) must be after the submission; got \(DurationText.format(duration))", subject: subject)
            }
            guard duration <= maximum else {
                throw JobqError(.invalidOption, "\(what) is at most \(DurationText.format(maximum)) away; got \(DurationText.format(duration))", subject: subject)
            }
        case .at(let date):
            guard date > now else {
                throw JobqError(.invalidOption, "\(what) \(ISO8601DateFormatter().string(from: date)) has passed", subject: subject)
            }
            guard date.timeIntervalSince(now) <= Double(maximum.components.seconds) else {
                throw JobqError(.invalidOption, "\(what) is at most \(DurationText.format(maximum)) away", subject: subject)
            }
        }
    }

    /// The script argument: `+<ms>` after the submission (the script adds Redis's now), or the
    /// absolute time in ms since the epoch.
    package var scriptArgument: String {
        switch self {
        case .after(let duration): "+" + String(duration.jobqMilliseconds)
        case .at(let date): String(Int64(date.timeIntervalSince1970 * 1000))
        }
    }
}

/// When a task that has not started by then ends CANCELLED with reason `expired`, never run
/// (Celery's `expires`, RQ's `ttl`): ``TaskSpec/expires``.
public typealias TaskExpiry = Deadline
