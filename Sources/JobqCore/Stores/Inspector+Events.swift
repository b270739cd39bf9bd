import JobqRedis

/// Reading the audit stream: what `wait`, `watch` and dashboards follow instead of polling.
extension Inspector {
    /// The id of the newest entry, or `"0-0"` when the stream is empty: read it *before* looking
    /// at a task's state, then follow from it, and no transition in between is missed.
    package func lastEventID() async throws(JobqError) -> String {
        let reply = try await runner.send(RedisCommand("XREVRANGE", [RedisArgument(runner.keys.events), "+", "-", "COUNT", 1]), doing: "read events")
        return reply.array?.first?.array?.first?.string ?? "0-0"
    }

    /// What was removed from the stream (it is capped): how many entries ever (Redis 7's
    /// `entries-added` less `length`; `nil` on an older Redis), the newest id deleted by XDEL
    /// (`max-deleted-entry-id`, `0-0` for none), and the oldest entry kept. A reader that saw
    /// everything up to an id missed nothing when nothing was removed, or when its id is at or
    /// after the oldest kept entry and the newest deleted one. A stream that does not exist is
    /// an error here: read its newest id first.
    package func eventsRemoved() async throws(JobqError) -> (count: Int?, newestDeleted: String?, oldestKept: String?) {
        let reply = try await runner.send(RedisCommand("XINFO", ["STREAM", RedisArgument(runner.keys.events)]), doing: "read events")
        let flat = reply.array ?? []
        var fields: [String: RedisValue] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].string { fields[name] = flat[index + 1] }
            index += 2
        }
        let count = fields["entries-added"]?.int.flatMap { added in fields["length"]?.int.map { added - $0 } }
        return (count, fields["max-deleted-entry-id"]?.string, fields["first-entry"]?.array?.first?.string)
    }

    /// Events after `position`, waiting up to `block` for the first one (XREAD BLOCK on the
    /// client's blocking lane; never the cooperative pool). Returns the records and the position
    /// to continue from; no records when the wait timed out.
    package func events(after position: String, block: Duration?, count: Int = 1000) async throws(JobqError) -> (records: [TaskEventRecord], position: String) {
        var arguments: [RedisArgument] = ["COUNT", RedisArgument(count)]
        if let block { arguments += ["BLOCK", RedisArgument(max(1, Int(block.jobqMilliseconds)))] }
        arguments += ["STREAMS", RedisArgument(runner.keys.events), RedisArgument(position)]
        let reply: RedisValue
        if let block {
            reply = try await runner.sendBlocking(RedisCommand("XREAD", arguments), timeout: block, doing: "read events")
        } else {
            reply = try await runner.send(RedisCommand("XREAD", arguments), doing: "read events")
        }
        let (records, last) = Self.records(ofEntries: reply.array?.first?.array?.dropFirst().first?.array ?? [], newestFirst: false)
        return (records, last ?? position)
    }

    /// One page of the stream between `start` and `end` (ids, inclusive; `-`/`+` for the ends;
    /// `(ID` to exclude ID), at most `count` entries: XRANGE, or XREVRANGE when `newestFirst`.
    /// What `jobq events` reads the last N transitions, or those since a time, with; a page is
    /// bounded, so a long stream is read a page per round trip, never in one reply.
    ///
    /// - Returns: the records in the order asked for (with `newestFirst`, the lines of one entry
    ///   reversed too), and the id of the page's last entry — the cursor for the next page, `nil`
    ///   when the page was empty — even when that entry held no decodable line.
    package func events(from start: String, to end: String, newestFirst: Bool, count: Int) async throws(JobqError) -> (records: [TaskEventRecord], last: String?) {
        let command = newestFirst
            ? RedisCommand("XREVRANGE", [RedisArgument(runner.keys.events), RedisArgument(end), RedisArgument(start), "COUNT", RedisArgument(count)])
            : RedisCommand("XRANGE", [RedisArgument(runner.keys.events), RedisArgument(start), RedisArgument(end), "COUNT", RedisArgument(count)])
        let reply = try await runner.send(command, doing: "read events")
        return Self.records(ofEntries: reply.array ?? [], newestFirst: newestFirst)
    }

    /// Decodes stream entries (`[id, [field, value, …]]` each) into records; the id of the last.
    private static func records(ofEntries entries: [RedisValue], newestFirst: Bool) -> (records: [TaskEventRecord], last: String?) {
        var records: [TaskEventRecord] = []
        var last: String?
        for entry in entries {
            guard let parts = entry.array, parts.count == 2, let entryID = parts[0].string else { continue }
            last = entryID
            let flat = parts[1].array ?? []
            var fields: [String: String] = [:]
            var index = 0
            while index + 1 < flat.count {
                if let key = flat[index].string { fields[key] = flat[index + 1].string ?? "" }
                index += 2
            }
            let decoded = TaskEventRecord.decode(entryID: entryID, fields: fields)
            records += newestFirst ? decoded.reversed() : decoded
        }
        return (records, last)
    }
}
