/// What a namespace holds at one instant, read for a metrics scrape (`jobq coordinator
/// --metrics-port`, the dashboard's `/metrics`): sizes of the indexes jobq maintains, never a
/// walk over tasks, so a scrape costs the same with ten tasks or ten million.
package struct ClusterSnapshot: Sendable, Hashable {
    /// One queue's figures.
    package struct Queue: Sendable, Hashable {
        package var name: String
        /// Ids in each dispatch lane (`ready`: the lanes of every priority in use, `recovered`,
        /// `quarantine`); may include stale ids of tasks cancelled while queued, as `jobq queues`
        /// counts them.
        package var lanes: [Lane: Int]
        package var paused: Bool
        /// Seconds since the oldest queued task became claimable (see ``Inspector/snapshot``),
        /// or `nil` when no lane holds a PENDING task within the ids looked at.
        package var oldestAge: Double?
    }

    /// The lists a queue's claimable ids wait in, in the order claims take them.
    package enum Lane: String, Sendable, Hashable, CaseIterable {
        case quarantine, recovered, ready
    }

    /// Redis server time (ms) the snapshot was read at.
    package var now: Int64
    /// Every queue name ever used (`SCARD queues`), even beyond ``queues``.
    package var queueCount: Int
    /// The queues read, by name, at most the cap the read was given.
    package var queues: [Queue]
    /// PENDING tasks waiting for prerequisites / for a time (delay, retry backoff).
    package var waiting: Int
    package var delayed: Int
    /// Delayed tasks already due that the maintenance pass has not promoted yet.
    package var delayedDue: Int
    /// RUNNING tasks (the lease index).
    package var running: Int
    /// RUNNING tasks whose lease deadline has passed and that no maintenance pass reaped yet.
    package var leasesExpired: Int
    /// Finished tasks still kept, per terminal state.
    package var finished: [TaskState: Int]
    /// Workers registered whose record has not expired (a dead worker's index entry can
    /// outlive it); beyond the cap of workers read, index entries count as they are.
    package var workers: Int
    /// Seconds since the least recent heartbeat among the workers read, 0 with none.
    package var oldestHeartbeatAge: Double
    /// Sum of the concurrency / of the running tasks of the workers read (at most the cap).
    package var slots: Int
    package var slotsBusy: Int
    /// Runs kept (the `runs` index: active and finished within retention).
    package var runs: Int
    /// Schedules defined, and concurrency keys with running or parked tasks.
    package var schedules: Int
    package var limitKeys: Int
    /// The `stats` hash: counters since the namespace was created.
    package var counters: [String: Int]
}
