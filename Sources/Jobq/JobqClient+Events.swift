import JobqCore

/// The audit stream (`jobq:{ns}:events`): every transition of every task and run, as
/// ``TaskEventRecord``s. `wait` and `watch` follow it to know when to look again; `jobq events`
/// and dashboards show it as it is.
extension JobqClient {
    /// The id of the newest event, or `"0-0"`: read it *before* looking at a state, then follow
    /// ``events(after:block:count:)`` from it, and no transition in between is missed.
    public func lastEventID() async throws(JobqError) -> String {
        try await engine.inspector.lastEventID()
    }

    /// Events after `position`, waiting up to `block` for the first one. Returns the records and
    /// the position to continue from; no records when the wait timed out.
    public func events(after position: String, block: Duration?, count: Int = 1000) async throws(JobqError) -> (records: [TaskEventRecord], position: String) {
        try await engine.inspector.events(after: position, block: block, count: count)
    }

    /// One page of at most `count` stream entries between `start` and `end` (ids, inclusive;
    /// `-` and `+` for the ends, `(ID` to exclude ID), oldest first or `newestFirst`. Returns the
    /// records in that order and the last entry's id, the cursor of the next page (`nil`: no
    /// more). Paging newest first is how the last N transitions are found without reading the
    /// whole stream.
    public func events(from start: String, to end: String, newestFirst: Bool = false, count: Int = 200) async throws(JobqError) -> (records: [TaskEventRecord], last: String?) {
        try await engine.inspector.events(from: start, to: end, newestFirst: newestFirst, count: count)
    }

    /// The queue of each task of `ids` that still has a record, in one pipelined round trip (event
    /// lines do not carry the queue). Tasks whose record is gone are absent from the result.
    public func queues(ofTasks ids: [String]) async throws(JobqError) -> [String: String] {
        try await engine.tasks.queues(of: ids)
    }

    /// Follows the stream after `position` until the caller stops: each XREAD BLOCK waits up to
    /// `block` on the client's blocking lane (never the cooperative pool), and `onBatch` gets
    /// what arrived, oldest first (an empty batch after a quiet `block`, so a caller can check
    /// on its own things). Like ``follow(timeout:reconnect:load:isFinished:concerns:block:onEach:)``
    /// it is a read and survives a Redis restart: a lost connection is retried with
    /// `reconnect`'s backoff and the stream is read on from the same position.
    ///
    /// - Throws: `redis_unavailable` when the connection stays lost longer than
    ///   `reconnect.budget`, `cancelled` when the calling task is cancelled, and what `onBatch`
    ///   throws. It never returns otherwise.
    public func followEvents(
        after position: String,
        reconnect: ReconnectPolicy = ReconnectPolicy(),
        block: Duration = .seconds(5),
        onBatch: ([TaskEventRecord]) async throws(JobqError) -> Void
    ) async throws(JobqError) -> Never {
        var retry = Reconnection(policy: reconnect, deadline: nil)
        var position = position
        while true {
            if Task.isCancelled { throw JobqError(.cancelled, "following events: cancelled") }
            let from = position
            let (records, next) = try await retry.run { () throws(JobqError) in try await events(after: from, block: block) }
            position = next
            try await onBatch(records)
        }
    }
}
