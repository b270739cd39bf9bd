// docs/worker.md, "Snooze and checkpoints": the checkpoint snippet, verbatim (compiled, not
// run), inside a function because only main.swift may hold top-level code.
import Jobq
import JobqWorker

struct Reindex: Codable { var shards: Int }
func reindex(shard: Int) async throws {}

func registerReindex(in registry: inout HandlerRegistry) {
registry.register("reindex") { (input: Reindex, context: HandlerContext) async throws -> Int in
    var next = try context.checkpoint(as: Int.self) ?? 0   // what an earlier attempt saved
    while next < input.shards {
        try await reindex(shard: next)
        next += 1
        try await context.checkpoint(next)                 // stored in Redis when this returns
    }
    return next
}
}
