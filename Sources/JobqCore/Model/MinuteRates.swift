/// Tasks that ended DONE and FAILED per minute, for the last hours: the dashboard's charts.
///
/// The scripts count them as they end tasks (Keyspace `throughput:<hour>`), so reading 72 hours costs
/// 73 pipelined HGETALLs of at most 120 fields each, whatever the number of tasks.
public struct MinuteRates: Sendable, Hashable {
    /// The first minute (ms since the epoch / 60,000) of ``done`` and ``failed``.
    public var firstMinute: Int64
    /// One count per minute, oldest first, up to and including the current minute.
    public var done: [Int]
    public var failed: [Int]

    public init(firstMinute: Int64, done: [Int], failed: [Int]) {
        self.firstMinute = firstMinute
        self.done = done
        self.failed = failed
    }
}
