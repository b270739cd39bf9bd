import Foundation

/// Durations as people type them, with one grammar for `jobq` (`--timeout`, `--delay`, workflow
/// files), `jobq-worker` (`--lease`, `--heartbeat`, …) and the worker's config file, so that
/// what one accepts the other accepts too.
///
/// The grammar (case-insensitive, surrounding whitespace ignored):
///
/// - one or more *number unit* parts, larger units first, each unit at most once:
///   `250ms`, `30s`, `1.5s`, `5m`, `2h`, `1d`, `1h30m`, `1m 30s`, `2d12h`;
/// - or a bare number, which is seconds: `45`, `0.5`;
/// - numbers are decimal digits with an optional fraction (`1.5`, `.5`, `2.`); no sign, no
///   exponent;
/// - units: `d`, `h`, `m`/`min`, `s`/`sec`, `ms`, `us`/`µs`, `ns`;
/// - at most 100 years (a bigger value is a typo, and would overflow nanoseconds).
///
/// It is the union of what the two executables accepted before they shared it, except the
/// exponent forms (`1e3`) that only `Double` parsing let through.
package enum DurationText {
    /// For messages: what a duration looks like.
    package static let grammar = "a number with a unit: 250ms, 30s, 1.5s, 5m, 2h, 1d, 1h30m (a bare number is seconds)"

    /// Examples for "is not a duration" messages.
    package static let examples = "30s, 1m30s, 250ms"

    /// The largest duration accepted: 100 years.
    package static let maximumSeconds: Double = 100 * 365 * 86_400

    /// Units, largest first; the rank enforces "larger units first, each at most once".
    private static let units: [(names: [String], seconds: Double)] = [
        (["d"], 86_400),
        (["h"], 3_600),
        (["m", "min"], 60),
        (["s", "sec"], 1),
        (["ms"], 1e-3),
        (["us", "µs"], 1e-6),
        (["ns"], 1e-9),
    ]

    /// The duration `text` denotes, or nil when it is not one.
    package static func parse(_ text: String) -> Duration? {
        let input = Array(text.trimmingCharacters(in: .whitespaces).lowercased())
        guard !input.isEmpty else { return nil }
        var index = 0
        func skipSpaces() { while index < input.count, input[index] == " " { index += 1 } }
        func number() -> Double? {
            let start = index
            var digits = 0
            var dots = 0
            while index < input.count, input[index].isASCII, input[index].isNumber || input[index] == "." {
                if input[index] == "." { dots += 1 } else { digits += 1 }
                index += 1
            }
            guard digits > 0, dots <= 1 else { return nil }
            return Double(String(input[start..<index]) + (input[index - 1] == "." ? "0" : ""))
        }
        func unit() -> String {
            let start = index
            while index < input.count, input[index].isLetter { index += 1 }
            return String(input[start..<index])
        }

        // A bare number: seconds.
        if input.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            guard let seconds = number(), index == input.count else { return nil }
            return duration(seconds: seconds)
        }
        var total: Double = 0
        var lastRank = -1
        while index < input.count {
            guard let value = number() else { return nil }
            skipSpaces()
            let name = unit()
            guard let rank = units.firstIndex(where: { $0.names.contains(name) }), rank > lastRank else { return nil }
            lastRank = rank
            total += value * units[rank].seconds
            skipSpaces()
        }
        return duration(seconds: total)
    }

    /// Parses the value of `setting` (`--lease`, `worker.lease`, a workflow file's `timeout`);
    /// the error names the setting, the text and the grammar.
    package static func parse(_ text: String, setting: String) throws(JobqError) -> Duration {
        guard let duration = parse(text) else {
            throw JobqError(
                .invalidOption,
                "\(setting): \"\(text)\" is not a duration; use e.g. \(examples) (\(grammar))",
                subject: setting
            )
        }
        return duration
    }

    private static func duration(seconds: Double) -> Duration? {
        guard seconds.isFinite, seconds >= 0, seconds <= maximumSeconds else { return nil }
        let whole = seconds.rounded(.down)
        let nanoseconds = ((seconds - whole) * 1e9).rounded()
        return .seconds(Int64(whole)) + .nanoseconds(Int64(nanoseconds))
    }

    // MARK: Formatting

    /// `1.2s`, `45s`, `3m05s`, `2h10m`, `3d4h`, and whole units without a zero tail (`2s`, `31m`,
    /// `2h`, `7d`): short and exact enough for tables and messages, and read back by ``parse``.
    /// The one duration formatter of jobq and jobq-worker.
    package static func format(milliseconds ms: Int64) -> String {
        let ms = max(0, ms)
        if ms < 1000 { return "\(ms)ms" }
        if ms < 10_000 && ms % 1000 != 0 {
            let tenths = (ms + 50) / 100
            return "\(tenths / 10).\(tenths % 10)s"
        }
        let seconds = ms / 1000
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" + (seconds % 60 == 0 ? "" : "\(pad(seconds % 60))s") }
        if seconds < 86_400 { return "\(seconds / 3600)h" + ((seconds % 3600) / 60 == 0 ? "" : "\(pad((seconds % 3600) / 60))m") }
        return "\(seconds / 86_400)d" + ((seconds % 86_400) / 3600 == 0 ? "" : "\((seconds % 86_400) / 3600)h")
    }

    package static func format(_ duration: Duration) -> String {
        format(milliseconds: duration.jobqMilliseconds)
    }

    /// ISO 8601 in UTC with milliseconds, for `--json` and the dashboard's API.
    package static func iso8601(milliseconds ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    private static func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
