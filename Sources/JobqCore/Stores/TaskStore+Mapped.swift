import JobqRedis

/// Mapped results (``MappedResult``): a DONE mapped task stores a marker naming its child run;
/// whoever reads the result as a value expands it here into the children's results, in order.
extension TaskStore {
    /// Child results read per round trip (one pipelined HMGET per child): each page is bounded,
    /// the number of pages is the caller's loop.
    package static let mappedPageSize = 1_000

    /// `result` itself, or, for a mapped task's marker, the JSON list of its children's results
    /// in element order (a child that skipped without a result, or whose record has expired, is
    /// `null`; a SKIPPED child contributes the result its skip gave).
    package func expandMapped(_ result: [UInt8]) async throws(JobqError) -> [UInt8] {
        guard let (run, count) = MappedResult.parse(result) else { return result }
        var out: [UInt8] = [UInt8(ascii: "[")]
        var start = 0
        while start < count {
            let end = min(start + Self.mappedPageSize, count)
            let commands = (start..<end).map { index in
                RedisCommand("HMGET", [RedisArgument(runner.keys.task(RunScope.id(run: run, key: String(index)))), RedisArgument("state"), RedisArgument("result")])
            }
            let replies = try await runner.pipeline(commands, doing: "read a map's results")
            for (offset, reply) in replies.enumerated() {
                if start + offset > 0 { out.append(UInt8(ascii: ",")) }
                let fields = reply.array ?? []
                let state = fields.first?.bytes.map { String(decoding: $0, as: UTF8.self) }
                let value = fields.count > 1 ? fields[1].bytes ?? [] : []
                let successLike = state.flatMap(TaskState.init(rawValue:))?.isSuccessLike == true
                out += successLike && !value.isEmpty ? value : Array("null".utf8)
            }
            start = end
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}
