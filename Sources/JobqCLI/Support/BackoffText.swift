import JobqCore

/// Retry backoff as text: `fixed 5s`, `exponential 1s 5m`, `exponential 1s 5m no-jitter`.
enum BackoffText {
    static let grammar = "`fixed DELAY` or `exponential BASE CAP [no-jitter]` (e.g. `fixed 5s`, `exponential 1s 5m`)"

    static func parse(_ text: String) -> RetryBackoff? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "," }).map { $0.lowercased() }
        switch words.first {
        case "fixed":
            guard words.count == 2, let delay = DurationText.parse(words[1]) else { return nil }
            return .fixed(delay: delay)
        case "exponential", "exp":
            guard words.count == 3 || (words.count == 4 && words[3] == "no-jitter"),
                let base = DurationText.parse(words[1]), let cap = DurationText.parse(words[2]), base <= cap
            else { return nil }
            return .exponential(base: base, cap: cap, jitter: words.count == 3)
        default:
            return nil
        }
    }

    static func format(_ backoff: RetryBackoff) -> String {
        switch backoff {
        case .fixed(let delay): "fixed \(DurationText.format(delay))"
        case .exponential(let base, let cap, let jitter): "exponential \(DurationText.format(base)) \(DurationText.format(cap))\(jitter ? "" : " no-jitter")"
        }
    }
}
