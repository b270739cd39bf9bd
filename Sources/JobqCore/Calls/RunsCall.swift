import JobqRedis

/// runs.lua: one page of runs, newest first, read-only and bounded.
package struct RunsCall: ScriptCall {
    package static var script: RedisScript { Scripts.runs }

    package var definition: String?
    package var state: RunState?
    /// Only runs one of whose tasks was submitted to this queue (the `q:<queue>:runs` index).
    package var queue: String?
    package var cursor: RunCursor?
    package var limit: Int
    /// Index entries looked at per call at most (a state filter that matches little stays bounded).
    package var scanBudget: Int = 1000

    package var arguments: [RedisArgument] {
        [
            RedisArgument(definition ?? ""), RedisArgument(state?.rawValue ?? ""),
            RedisArgument(cursor?.score ?? "+inf"), RedisArgument(cursor?.id ?? ""),
            RedisArgument(limit), RedisArgument(scanBudget), RedisArgument(queue ?? ""),
        ]
    }

    /// `{1, next score, next id, n, (id, k, k field/value pairs)...}`.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> RunPage {
        try reply.expectOK()
        let score = try reply.string("next score")
        let nextID = try reply.string("next id")
        let count = try reply.int("run count")
        var runs: [RunInfo] = []
        for _ in 0..<count {
            let id = try reply.string("run id")
            let pairs = try reply.int("field count")
            var fields: [String: String] = [:]
            for _ in 0..<pairs {
                let field = try reply.string("field")
                fields[field] = try reply.string("value")
            }
            if let run = RunInfo(id: id, fields: fields) { runs.append(run) }
        }
        return RunPage(runs: runs, next: nextID.isEmpty ? nil : RunCursor(score: score, id: nextID))
    }
}
