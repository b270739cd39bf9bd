/// How one rate key stands (``RateLimit``): what `jobq limits` lists and what status uses to
/// say "rate limited until …".
public struct RateUsage: Sendable, Hashable {
    /// The expanded key.
    public var key: String
    /// The rate its last parked task carried (or the one asked about), if known.
    public var limit: Int?
    public var intervalMs: Int64?
    /// Starts of the key in the last interval (of the kept log: at most ``limit``).
    public var recentStarts: Int
    /// Its tasks held back, waiting to be woken.
    public var parked: Int
    /// A handler's backpressure holds the key until then (Redis ms), if a pause is in force.
    public var pausedUntil: Int64?
    /// When the maintenance pass next looks at the key to wake its parked tasks (Redis ms).
    public var wakeAt: Int64?

    public init(key: String, limit: Int?, intervalMs: Int64?, recentStarts: Int, parked: Int, pausedUntil: Int64?, wakeAt: Int64?) {
        self.key = key
        self.limit = limit
        self.intervalMs = intervalMs
        self.recentStarts = recentStarts
        self.parked = parked
        self.pausedUntil = pausedUntil
        self.wakeAt = wakeAt
    }

    /// Starts left in the current window (`nil` when the rate is not known).
    public var startsLeft: Int? { limit.map { max(0, $0 - recentStarts) } }

    /// The rate as written (`100/1m`), if known.
    public var rateText: String? {
        guard let limit, let intervalMs else { return nil }
        return RateLimit(limit, per: .milliseconds(intervalMs)).text
    }
}
