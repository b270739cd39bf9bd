import JobqRedis

/// Reading the audit stream: what `wait`, `watch` and dashboards follow instead of polling.
extension Inspector {
    /// The id of the newest entry, or `"0-0"` when the stream is empty: read it *before* looking
    /// at a task's state, then follow from it, and no transition in between is missed.
    package func lastEventID() async throws(JobqError) -> String {
        let reply = try await runner.send(RedisCommand("XREVRANGE", [RedisArgument(runner.keys.events), "+", "-", "COUNT", 1]), doing: "read events")
        return reply.array?.first?.array?.first?.string ?? "0-0"
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
        var records: [TaskEventRecord] = []
        var next = position
        for entry in reply.array?.first?.array?.dropFirst().first?.array ?? [] {
            guard let parts = entry.array, parts.count == 2, let entryID = parts[0].string else { continue }
            next = entryID
            let flat = parts[1].array ?? []
            var fields: [String: String] = [:]
            var index = 0
            while index + 1 < flat.count {
                if let key = flat[index].string { fields[key] = flat[index + 1].string ?? "" }
                index += 2
            }
            records += TaskEventRecord.decode(entryID: entryID, fields: fields)
        }
        return (records, next)
    }
}
