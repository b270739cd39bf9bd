import Jobq
import JobqCore

/// Turns the hub's batches into Server-Sent Events text for one subscriber: its filter, and the
/// stream id it has been given everything up to (entries at or before it are skipped, so the
/// replayed backlog and the live batches that overlap it are sent once).
///
/// One `event: transition` per transition, its data the same JSON object as a line of
/// `jobq events --json`. A stream entry may hold several transitions (one script call); the
/// `id:` line (the entry id) goes with the last of them, so a browser that reconnects
/// mid-entry is given the whole entry again rather than missing its end. After a batch whose
/// last entries matched nothing, a bare `id:` block moves the browser's `Last-Event-ID` on
/// without an event (EventSource dispatches nothing for it), so a filtered tab never replays
/// what it had skipped.
package struct LiveFeed: Sendable {
    package let filter: EventFilter
    package private(set) var cursor: EventStreamID?

    package init(filter: EventFilter, after cursor: EventStreamID?) {
        self.filter = filter
        self.cursor = cursor
    }

    /// The first bytes of every stream: the browser's reconnection delay (ms) and a comment, so
    /// the response's head and the EventSource's `open` go out at once.
    package static let opening = "retry: 2000\n: jobq live\n\n"
    /// The heartbeat: a comment line, ignored by EventSource and by well-behaved scripts.
    package static let heartbeat = ": heartbeat\n\n"
    /// Sent before the server ends a stream it cannot continue without a gap: reload.
    package static let resync = "event: resync\ndata: {}\n\n"

    /// The events for `records` (oldest first; grouped by entry id as read), of tasks whose
    /// queues are in `queues` (needed only with a queue filter).
    package mutating func text(for records: [TaskEventRecord], queues: [String: String] = [:]) -> String {
        var out = ""
        var lastSent: EventStreamID?
        var advanced = false
        var index = records.startIndex
        while index < records.endIndex {
            let entryID = records[index].entryID
            var end = index
            while end < records.endIndex && records[end].entryID == entryID { end += 1 }
            defer { index = end }
            guard let id = EventStreamID(entryID) else { continue }
            if let cursor, id <= cursor { continue }
            let matched = records[index..<end].filter { filter.matches($0, queue: queues[$0.task]) }
            for (position, record) in matched.enumerated() {
                out += "event: transition\n"
                if position == matched.count - 1 { out += "id: \(entryID)\n" }
                out += "data: " + record.json.rendered() + "\n\n"
            }
            if !matched.isEmpty { lastSent = id }
            cursor = id
            advanced = true
        }
        if advanced, let cursor, lastSent != cursor { out += "id: \(cursor)\n\n" }
        return out
    }
}
