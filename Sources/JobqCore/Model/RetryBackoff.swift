/// How long to wait before retrying a task whose attempt `n` just failed (`n` is 1-based).
///
/// The delay is computed in Swift and handed to the retry script as milliseconds, so the
/// script only checks state and applies it. Stored with the task as a small JSON object
/// (`{"kind":"fixed","delay_ms":5000}`), readable from Lua and from other languages.
public enum RetryBackoff: Sendable, Hashable {
    /// The same delay before every retry.
    case fixed(delay: Duration)
    /// `base * 2^(n-1)`, never more than `cap`.
    ///
    /// With `jitter`, the delay is "equal jitter": half of the exponential delay is fixed and
    /// the other half is uniformly random. Many tasks that failed together (an outage) then
    /// retry spread over a window instead of as one thundering herd, and unlike "full jitter"
    /// the delay never collapses to zero, so a retry always backs off at least half the step.
    case exponential(base: Duration, cap: Duration, jitter: Bool = true)

    /// 1 s, 2 s, 4 s, … up to 5 minutes, with jitter.
    public static let `default`: RetryBackoff = .exponential(base: .seconds(1), cap: .seconds(300), jitter: true)

    /// The longest delay this policy can produce.
    public var maximumDelay: Duration {
        switch self {
        case .fixed(let delay): max(delay, .zero)
        case .exponential(_, let cap, _): max(cap, .zero)
        }
    }

    /// The wait before the retry that follows failed attempt `attempt`.
    ///
    /// Always within `[0, maximumDelay]`; attempts below 1 count as 1, and arbitrarily large
    /// attempts (10,000) give the cap instead of overflowing.
    /// - Parameters:
    ///   - attempt: The 1-based attempt that just failed.
    ///   - random: A uniform `Double` in `[0, 1)`; injectable so tests are deterministic.
    public func delay(afterAttempt attempt: Int, random: () -> Double = { Double.random(in: 0..<1) }) -> Duration {
        switch self {
        case .fixed(let delay):
            return max(delay, .zero)
        case .exponential(let base, let cap, let jitter):
            let step = Self.doubling(base: max(base, .zero), times: max(attempt, 1) - 1, cap: max(cap, .zero))
            guard jitter else { return step }
            let half = step / 2
            let fraction = min(max(random(), 0), 1)
            return min(half + (step - half) * fraction, step)
        }
    }

    /// ``delay(afterAttempt:random:)`` in whole milliseconds, the unit the scripts take.
    public func delayMilliseconds(afterAttempt attempt: Int, random: () -> Double = { Double.random(in: 0..<1) }) -> Int64 {
        delay(afterAttempt: attempt, random: random).jobqMilliseconds
    }

    /// `min(base * 2^times, cap)` without ever forming a product that could overflow.
    ///
    /// `base * 2^k > cap` exactly when `base > cap / 2^k` (integer division of attoseconds),
    /// so the comparison decides before multiplying; beyond 2^62 any positive base exceeds
    /// every representable cap.
    private static func doubling(base: Duration, times: Int, cap: Duration) -> Duration {
        guard base > .zero else { return .zero }
        guard times < 62 else { return cap }
        let factor = Int64(1) << times
        return base > cap / factor ? cap : base * factor
    }
}

extension RetryBackoff: Codable {
    private enum CodingKeys: String, CodingKey {
        case kind
        case delayMilliseconds = "delay_ms"
        case baseMilliseconds = "base_ms"
        case capMilliseconds = "cap_ms"
        case jitter
    }

    private enum Kind: String, Codable {
        case fixed
        case exponential
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Kind.self, forKey: .kind) {
        case .fixed:
            self = .fixed(delay: try Self.decodeMilliseconds(container, .delayMilliseconds))
        case .exponential:
            self = .exponential(
                base: try Self.decodeMilliseconds(container, .baseMilliseconds),
                cap: try Self.decodeMilliseconds(container, .capMilliseconds),
                jitter: try container.decodeIfPresent(Bool.self, forKey: .jitter) ?? true
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .fixed(let delay):
            try container.encode(Kind.fixed, forKey: .kind)
            try container.encode(delay.jobqMilliseconds, forKey: .delayMilliseconds)
        case .exponential(let base, let cap, let jitter):
            try container.encode(Kind.exponential, forKey: .kind)
            try container.encode(base.jobqMilliseconds, forKey: .baseMilliseconds)
            try container.encode(cap.jobqMilliseconds, forKey: .capMilliseconds)
            try container.encode(jitter, forKey: .jitter)
        }
    }

    /// A non-negative integer number of milliseconds; negative delays are rejected as corrupt.
    private static func decodeMilliseconds(
        _ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys
    ) throws -> Duration {
        let milliseconds = try container.decode(Int64.self, forKey: key)
        guard milliseconds >= 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "\(key.stringValue) must not be negative"
            )
        }
        return .milliseconds(milliseconds)
    }
}

extension Duration {
    /// Whole milliseconds, truncated toward zero and clamped to `Int64`.
    ///
    /// Redis scores and script arguments are integer milliseconds; clamping keeps absurd
    /// durations (`.seconds(Int64.max)`) from trapping.
    var jobqMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let saturated: Int64 = seconds < 0 ? .min : .max
        let (secondsPart, productOverflowed) = seconds.multipliedReportingOverflow(by: 1000)
        if productOverflowed { return saturated }
        let (total, sumOverflowed) = secondsPart.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return sumOverflowed ? saturated : total
    }
}
