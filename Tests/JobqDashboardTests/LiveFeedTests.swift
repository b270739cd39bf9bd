import Jobq
import JobqCore
import Testing
@testable import JobqDashboard

/// The SSE text one subscriber is sent for a batch: ids per stream entry, filters, and what is
/// skipped as already sent.
@Suite("live feed framing")
struct LiveFeedTests {
    static func record(_ entry: String, _ task: String, _ from: TaskState?, _ to: TaskState) -> TaskEventRecord {
        // As the scripts write it: "id from to attempt reason" ("-" for no state).
        TaskEventRecord.decode(entryID: entry, fields: ["e": "\(task) \(from?.rawValue ?? "-") \(to.rawValue) 1 ok", "ts": "1700000000000"])[0]
    }

    static let batch = [
        record("5-0", "r/a", .running, .done),
        record("5-0", "r/b", .pending, .cancelled),
        record("6-0", "other", nil, .pending),
        record("7-0", "r/c", .pending, .running),
    ]

    @Test func oneEventPerTransitionTheEntryIDWithTheLastOfItsEntry() throws {
        var feed = LiveFeed(filter: try EventFilter(run: nil, task: nil, queue: nil), after: nil)
        let text = feed.text(for: Self.batch)
        let blocks = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(blocks.count == 4)
        #expect(blocks[0].hasPrefix("event: transition\ndata: {") && !blocks[0].contains("id:"))
        #expect(blocks[1].hasPrefix("event: transition\nid: 5-0\ndata: {"))
        #expect(blocks[2].contains("id: 6-0") && blocks[3].contains("id: 7-0"))
        #expect(blocks[0].contains(#""task":"r/a""#) && blocks[0].contains(#""to":"DONE""#) && blocks[0].contains(#""run":"r""#))
        #expect(feed.cursor == EventStreamID("7-0"))
        // What was sent is not sent again (a replay overlapping the live batch).
        #expect(feed.text(for: Self.batch).isEmpty)
    }

    @Test func aFilteredFeedMovesTheBrowsersIDOnWithoutEvents() throws {
        var feed = LiveFeed(filter: try EventFilter(run: "r", task: nil, queue: nil), after: EventStreamID("5-0"))
        // 5-0 was sent already; 6-0 is not r's; 7-0 is.
        #expect(feed.text(for: Self.batch) == "event: transition\nid: 7-0\ndata: " + Self.batch[3].json.rendered() + "\n\n")
        var quiet = LiveFeed(filter: try EventFilter(run: "zzz", task: nil, queue: nil), after: nil)
        #expect(quiet.text(for: Self.batch) == "id: 7-0\n\n")
        var queued = LiveFeed(filter: try EventFilter(run: nil, task: nil, queue: "q"), after: nil)
        let text = queued.text(for: Self.batch, queues: ["r/b": "q", "r/a": "other"])
        #expect(text.contains(#""task":"r/b""#) && !text.contains(#""task":"r/a""#) && text.hasSuffix("id: 7-0\n\n"))
    }
}
