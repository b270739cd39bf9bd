import Jobq
import JobqCore

/// Follows the namespace's audit stream (`XREAD BLOCK` on the client's blocking lane, through
/// ``JobqClient/events(after:block:count:)``), so that `wait`, `watch` and `logs -f` sleep in
/// Redis until a task changes instead of polling.
struct EventStream {
    let client: JobqClient
    private(set) var position: String

    /// Starts at the newest event: only later changes are reported. Open it *before* reading
    /// the tasks' states, so that no transition in between is missed.
    static func open(_ client: JobqClient) async throws(JobqError) -> EventStream {
        EventStream(client: client, position: try await client.lastEventID())
    }

    /// Blocks until events arrive or `block` passes; returns the ids of the tasks they concern
    /// (empty after a quiet `block`).
    mutating func next(block: Duration) async throws(JobqError) -> Set<String> {
        let (records, next) = try await client.events(after: position, block: block)
        position = next
        return Set(records.map(\.task))
    }
}
