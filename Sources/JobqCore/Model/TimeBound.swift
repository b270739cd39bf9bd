import Foundation

/// A point in time given on the command line or in a URL (`?since=`, `--until`): milliseconds
/// since the epoch (digits only), a duration ago (`90m`, the grammar of ``DurationText``), or an
/// ISO 8601 time (`2026-05-01T12:00:00Z`). A duration is measured back from Redis's clock.
package enum TimeBound: Sendable, Hashable {
    case ago(Duration)
    case at(milliseconds: Int64)

    /// Throws `invalid_option` for text that is none of the three, naming `option`.
    package static func parse(_ text: String, option: String) throws(JobqError) -> TimeBound {
        if !text.isEmpty, text.allSatisfy(\.isASCII), let milliseconds = Int64(text), milliseconds >= 0 { return .at(milliseconds: milliseconds) }
        if let duration = DurationText.parse(text) { return .ago(duration) }
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = plain.date(from: text) ?? fractional.date(from: text) {
            return .at(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
        }
        throw JobqError(.invalidOption, "\(option) \"\(text)\" is neither milliseconds since 1970, a duration ago (\(DurationText.grammar)), nor an ISO 8601 time such as 2026-05-01T12:00:00Z", subject: option)
    }

    /// Whether it is measured back from now (then Redis's clock must be read).
    package var isRelative: Bool {
        if case .ago = self { return true }
        return false
    }

    /// The instant in Redis milliseconds, given Redis's `now`.
    package func milliseconds(now: Int64) -> Int64 {
        switch self {
        case .ago(let duration): max(0, now - duration.jobqMilliseconds)
        case .at(let milliseconds): milliseconds
        }
    }
}
