import Foundation

/// Durations as operators write them: `30s`, `500ms`, `2m`, `1h`, `1.5s`, `250us`; a bare number
/// is seconds.
enum DurationParsing {
    static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !trimmed.isEmpty else { return nil }
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        var number = trimmed
        var scale = 1.0
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            number = String(trimmed.dropLast(suffix.count))
            scale = factor
            break
        }
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0 else { return nil }
        let seconds = value * scale
        guard seconds < 1e9 else { return nil }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}

