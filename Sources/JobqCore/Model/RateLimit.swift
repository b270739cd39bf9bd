/// A task's fleet-wide rate limit: at most ``count`` tasks with the same expanded ``key`` start
/// in any window of ``interval``, across every worker ("100 calls a minute to the payment API").
///
/// Enforced at claim time as a sliding log (every start of the key in the last interval is
/// kept, at most ``count`` of them), so the promise holds over *every* window, which is what a
/// remote API's quota checks; a token bucket would let up to 2N−1 through one window
/// (docs/flow-control.md, "Rate limits"). The key is a template like a concurrency key's
/// (``KeyTemplate``), expanded at submit; without one, the task's queue is the key
/// (`queue.<name>`), so a rate alone limits its queue.
public struct RateLimit: Sendable, Hashable {
    /// How many starts per ``interval`` (1...``maxCount``).
    public var count: Int
    /// The window (1 ms...``maxInterval``).
    public var interval: Duration
    /// The key template, or `nil` for the task's queue.
    public var key: String?

    /// The log keeps up to `count` starts per key: this bounds its memory (about 100 bytes each).
    public static let maxCount = 10_000
    public static let maxInterval: Duration = .seconds(31 * 86_400)
    /// What a rate looks like, for messages.
    public static let grammar = "N/DURATION: 100/1m, 5/s, 1000/1h (N from 1 to \(maxCount) starts per interval)"

    public init(_ count: Int, per interval: Duration, key: String? = nil) {
        self.count = count
        self.interval = interval
        self.key = key
    }

    /// Parses `100/1m` (also `5/s`: a bare unit is one of it). Throws `invalid_option` naming
    /// `setting` when the text is not N/DURATION; the range is checked by ``validate``.
    public init(parsing text: String, key: String? = nil, setting: String = "rate_limit") throws(JobqError) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[0].trimmingCharacters(in: .whitespaces)) else {
            throw JobqError(.invalidOption, "\(setting): \"\(text)\" is not a rate; use \(Self.grammar)", subject: setting)
        }
        let unit = parts[1].trimmingCharacters(in: .whitespaces)
        guard let interval = DurationText.parse(unit) ?? (!unit.isEmpty && unit.allSatisfy(\.isLetter) ? DurationText.parse("1" + unit) : nil) else {
            throw JobqError(.invalidOption, "\(setting): \"\(text)\": \"\(unit)\" is not a duration (\(DurationText.grammar))", subject: setting)
        }
        self.init(count, per: interval, key: key)
    }

    /// `100/1m`: the form ``init(parsing:key:setting:)`` reads back.
    public var text: String { "\(count)/\(DurationText.format(interval))" }

    /// The key's template: the given one, or the queue's (`queue.<name>`).
    package func template(queue: String) -> KeyTemplate {
        KeyTemplate(template: key ?? "queue.\(queue)", option: "rate_key", kind: .rateKey)
    }

    /// Checks the rate and the key against `payload`.
    /// `deferringElements`: `payload` is a map's template (``KeyTemplate/expand(payload:subject:deferringElements:)``).
    public func validate(payload: [UInt8], queue: String, subject: String? = nil, deferringElements: Bool = false) throws(JobqError) {
        guard (1...Self.maxCount).contains(count) else {
            throw JobqError(.invalidOption, "rate_limit must allow 1 to \(Self.maxCount) starts per interval; got \(count)", subject: subject)
        }
        guard interval >= .milliseconds(1), interval <= Self.maxInterval else {
            throw JobqError(.invalidOption, "rate_limit's interval must be from 1ms to \(DurationText.format(Self.maxInterval)); got \(DurationText.format(interval))", subject: subject)
        }
        _ = try template(queue: queue).expand(payload: payload, subject: subject, deferringElements: deferringElements)
    }

    /// What submit.lua takes (and the task record keeps as `rlimit`): `N INTERVAL_MS KEY`.
    package func scriptArgument(payload: [UInt8], queue: String) throws(JobqError) -> String {
        "\(count) \(interval.jobqMilliseconds) " + (try template(queue: queue).expand(payload: payload))
    }
}
