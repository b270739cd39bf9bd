import JobqRedis
import JobqTestSupport
import Testing

@Suite(.enabled(if: RedisServerFixture.shouldRun))
struct PipelineTests {
    @Test func repliesInOrderWithErrorsInPlace() async throws {
        try await withSharedRedis { client, ns in
            let replies = try await client.pipeline([
                RedisCommand("SET", [RedisArgument(ns + "k"), "1"]),
                RedisCommand("INCR", [RedisArgument(ns + "k")]),
                RedisCommand("LPUSH", [RedisArgument(ns + "k"), "x"]),  // WRONGTYPE, in place
                RedisCommand("GET", [RedisArgument(ns + "k")]),
                RedisCommand("GET", [RedisArgument(ns + "nope")]),
            ])
            #expect(replies.count == 5)
            #expect(replies[0] == .status("OK"))
            #expect(replies[1] == .integer(2))
            guard case .error(let error) = replies[2] else {
                Issue.record("expected an error reply, got \(replies[2])")
                return
            }
            #expect(error.prefix == "WRONGTYPE")
            #expect(replies[3] == .bulk(Array("2".utf8)))
            #expect(replies[4] == .null)
            #expect(try await client.pipeline([]) == [])
        }
    }

    /// 50 tasks × 200 commands share one client; every caller gets exactly its own replies.
    @Test func concurrentCallersGetTheirOwnReplies() async throws {
        try await withSharedRedis { client, ns in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<50 {
                    group.addTask {
                        let counter = RedisArgument(ns + "counter\(task)")
                        for i in 0..<200 {
                            if i % 10 == 9 {
                                // Interleave pipelines with single sends.
                                let replies = try await client.pipeline([
                                    RedisCommand("ECHO", [RedisArgument("t\(task)-p\(i)")]),
                                    RedisCommand("INCR", [counter]),
                                ])
                                #expect(replies == [.bulk(Array("t\(task)-p\(i)".utf8)), .integer(i + 1)])
                            } else if i % 2 == 0 {
                                let reply = try await client.send("ECHO", RedisArgument("t\(task)-\(i)"))
                                #expect(reply == .bulk(Array("t\(task)-\(i)".utf8)))
                                #expect(try await client.send("INCR", counter) == .integer(i + 1))
                            } else {
                                #expect(try await client.send("INCR", counter) == .integer(i + 1))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let totals = try await client.pipeline((0..<50).map { RedisCommand("GET", [RedisArgument(ns + "counter\($0)")]) })
            #expect(totals.allSatisfy { $0 == .bulk(Array("200".utf8)) })
        }
    }
}
