import ArgumentParser
import Foundation
import JobqCore

/// Timestamps for output. The duration grammar and its formatter are JobqCore's
/// ``DurationText`` (shared with jobq-worker); these are what only the CLI shows.
extension DurationText {
    /// Local wall-clock time for humans: `2024-05-01 12:03:04`.
    static func local(milliseconds ms: Int64) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// `30m` (after the submission) or an ISO 8601 time (`2026-12-02T06:00:00Z`): a run's
    /// deadline and a task's expiry, on the command line and in files; `nil` when it is neither.
    static func deadline(_ text: String) -> Deadline? {
        if let duration = parse(text) { return .after(duration) }
        return ISO8601DateFormatter().date(from: text).map { .at($0) }
    }

    /// What ``deadline(_:)`` accepts, for messages: "is neither \(deadlineGrammar)".
    static let deadlineGrammar = "a duration (\(grammar)) nor an ISO 8601 time such as 2026-12-02T06:00:00Z"

    /// Milliseconds since the epoch, now (local clock; display only).
    static var nowMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// `Duration` options on the command line (`--timeout 30s`).
struct DurationArgument: Sendable, Hashable {
    let duration: Duration
    let text: String

    /// ArgumentParser reports a nil as "The value … is invalid for '--option <duration>'".
    init?(argument: String) {
        guard let duration = DurationText.parse(argument) else { return nil }
        self.duration = duration
        self.text = argument
    }
}

extension DurationArgument: ExpressibleByArgument {
    static var defaultCompletionKind: CompletionKind { .default }
}

extension Duration {
    /// Whole milliseconds (rounded down).
    var inMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
