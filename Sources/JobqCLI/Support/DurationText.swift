import ArgumentParser
import Foundation
import JobqCore

/// Durations as people type them: `250ms`, `30s`, `1.5s`, `5m`, `2h`, `1d`, `1h30m`; a bare
/// number is seconds.
enum DurationText {
    static let grammar = "a number with a unit: 250ms, 30s, 1.5s, 5m, 2h, 1d, 1h30m (a bare number is seconds)"

    static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !trimmed.isEmpty else { return nil }
        if let seconds = Double(trimmed) {
            return seconds.isFinite && seconds >= 0 ? .milliseconds(Int64((seconds * 1000).rounded())) : nil
        }
        var total: Double = 0
        var rest = Substring(trimmed)
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number), value.isFinite else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ms": scale = 1
            case "s", "sec": scale = 1000
            case "m", "min": scale = 60_000
            case "h": scale = 3_600_000
            case "d": scale = 86_400_000
            default: return nil
            }
            total += value * scale
        }
        guard total < 1e15 else { return nil }
        return .milliseconds(Int64(total.rounded()))
    }

    /// `1.2s`, `45s`, `3m05s`, `2h10m`, `3d4h`: short and exact enough for tables.
    static func format(milliseconds ms: Int64) -> String {
        let ms = max(0, ms)
        if ms < 1000 { return "\(ms)ms" }
        if ms < 10_000 { return String(format: "%.1fs", Double(ms) / 1000) }
        let seconds = ms / 1000
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return String(format: "%dm%02ds", seconds / 60, seconds % 60) }
        if seconds < 86_400 { return String(format: "%dh%02dm", seconds / 3600, (seconds % 3600) / 60) }
        return "\(seconds / 86_400)d\((seconds % 86_400) / 3600)h"
    }

    static func format(_ duration: Duration) -> String { format(milliseconds: duration.inMilliseconds) }

    /// ISO 8601 in UTC with milliseconds, for `--json`.
    static func iso8601(milliseconds ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// Local wall-clock time for humans: `2024-05-01 12:03:04`.
    static func local(milliseconds ms: Int64) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// Milliseconds since the epoch, now (local clock; display only).
    static var nowMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// `Duration` options on the command line (`--timeout 30s`).
struct DurationArgument: Sendable, Hashable {
    let duration: Duration
    let text: String

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
