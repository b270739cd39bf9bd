import JobqRedis

/// Reading the audit stream: what `wait`, `watch` and dashboards follow instead of polling.
extension Coordinator {
    /// The id of the newest entry, or `"0-0"` when the stream is empty: read it *before* looking
    /// at a task's state, then follow from it, and no transition in between is missed.
    public func lastEventID() async throws(JobqError) -> String {
        do {
            let reply = try await redis.send(RedisCommand("XREVRANGE", [RedisArgument(keys.events), "+", "-", "COUNT", 1]))
            return reply.array?.first?.array?.first?.string ?? "0-0"
        } catch {
            throw Self.translate(error, doing: "read events")
        }
    }

    /// Events after `position`, waiting up to `block` for the first one (XREAD BLOCK on the
    /// client's blocking lane; never the cooperative pool). Returns the records and the position
    /// to continue from; no records when the wait timed out.
    public func events(after position: String, block: Duration?, count: Int = 1000) async throws(JobqError) -> (records: [TaskEventRecord], position: String) {
        var arguments: [RedisArgument] = ["COUNT", RedisArgument(count)]
        if let block { arguments += ["BLOCK", RedisArgument(max(1, Int(block.jobqMilliseconds)))] }
        arguments += ["STREAMS", RedisArgument(keys.events), RedisArgument(position)]
        let reply: RedisValue
        do {
            if let block {
                reply = try await redis.sendBlocking(RedisCommand("XREAD", arguments), blockTimeout: block)
            } else {
                reply = try await redis.send(RedisCommand("XREAD", arguments))
            }
        } catch {
            throw Self.translate(error, doing: "read events")
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
