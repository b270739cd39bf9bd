/// How full one concurrency key is (``ConcurrencyLimit``): what `jobq limits` lists and what
/// status uses to say "held by limit tenant-42 (2/2 running)".
public struct LimitUsage: Sendable, Hashable {
    /// The expanded key.
    public var key: String
    /// Its tasks RUNNING now, fleet-wide.
    public var running: Int
    /// The limit its last claimed task carried (each task is held to its own limit).
    public var limit: Int?
    /// Its tasks held back at the limit, waiting to be woken when a slot frees.
    public var parked: Int

    public init(key: String, running: Int, limit: Int?, parked: Int) {
        self.key = key
        self.running = running
        self.limit = limit
        self.parked = parked
    }
}

/// One page of `jobq limits`: the keys, and the cursor of the next page (`nil`: that was the last).
public struct LimitPage: Sendable, Hashable {
    public var keys: [LimitUsage]
    public var next: String?

    public init(keys: [LimitUsage], next: String?) {
        self.keys = keys
        self.next = next
    }
}
