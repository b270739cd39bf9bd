import Synchronization

/// Where scripts take "now" from.
///
/// Production uses the Redis server's clock (`TIME` inside the script), so lease and retry
/// deadlines stay right however far a worker's clock drifts. Tests use a ``ManualClock`` and
/// move time by hand: leases expire and retries fall due without sleeping.
public struct JobqClock: Sendable {
    let milliseconds: @Sendable () -> Int64?

    /// Redis `TIME`: the default, immune to worker clock skew.
    public static let redis = JobqClock(milliseconds: { nil })

    /// A clock the caller controls.
    public static func manual(_ clock: ManualClock) -> JobqClock {
        JobqClock(milliseconds: { clock.now })
    }

    /// The value scripts get as `ARGV[1]`: milliseconds, or 0 for "use Redis TIME".
    var scriptArgument: Int64 { milliseconds() ?? 0 }
}

/// A hand-driven clock for tests, in milliseconds since the epoch.
public final class ManualClock: Sendable {
    private let value: Mutex<Int64>

    public init(milliseconds: Int64 = 1_700_000_000_000) {
        value = Mutex(milliseconds)
    }

    public var now: Int64 { value.withLock { $0 } }

    public func advance(by duration: Duration) {
        value.withLock { $0 += duration.jobqMilliseconds }
    }
}
