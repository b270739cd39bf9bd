import JobqRedis
import JobqTestSupport
import Testing

@Suite(.enabled(if: RedisServerFixture.shouldRun))
struct BlockingLaneTests {
    /// BLPOP blocks a lane of its own: PINGs on the main lane complete while it is still
    /// blocked in the server (no timing involved: the BLPOP only returns once we push).
    @Test func blockingCommandDoesNotStallMainLane() async throws {
        try await withSharedRedis { client, ns in
            let key = RedisArgument(ns + "wake")
            let blpop = Task {
                try await client.sendBlocking(RedisCommand("BLPOP", [key, 30]), blockTimeout: .seconds(30))
            }
            // Wait (bounded) until the server reports a client blocked on our key.
            var blocked = false
            for _ in 0..<200 where !blocked {
                let clients = try await client.send("CLIENT", "LIST").decodeString()
                blocked = clients.split(separator: "\n").contains { $0.contains("cmd=blpop") }
                if !blocked { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(blocked)
            for _ in 0..<20 {
                #expect(try await client.send("PING") == .status("PONG"))
            }
            // The BLPOP is still waiting: the PINGs did not queue behind it.
            let clients = try await client.send("CLIENT", "LIST").decodeString()
            #expect(clients.split(separator: "\n").contains { $0.contains("cmd=blpop") })
            _ = try await client.send("RPUSH", key, "go")
            #expect(try await blpop.value == .array([.bulk(key.bytes), .bulk(Array("go".utf8))]))
        }
    }

    @Test func blockingCommandsGetValuesAndRunConcurrently() async throws {
        try await withSharedRedis { client, ns in
            let keys = (0..<3).map { RedisArgument(ns + "q\($0)") }
            let waiters = keys.map { key in
                Task { try await client.sendBlocking(RedisCommand("BLPOP", [key, 5]), blockTimeout: .seconds(5)) }
            }
            try await Task.sleep(for: .milliseconds(100))
            for (i, key) in keys.enumerated() {
                _ = try await client.send("RPUSH", key, RedisArgument("v\(i)"))
            }
            for (i, waiter) in waiters.enumerated() {
                #expect(try await waiter.value == .array([.bulk(keys[i].bytes), .bulk(Array("v\(i)".utf8))]))
            }
            // Lanes are reused: a further blocking call works at once.
            _ = try await client.send("RPUSH", keys[0], "again")
            #expect(
                try await client.sendBlocking(RedisCommand("BLPOP", [keys[0], 1]), blockTimeout: .seconds(1))
                    == .array([.bulk(keys[0].bytes), .bulk(Array("again".utf8))]))
        }
    }

    /// Cancelling the calling task aborts a blocking command: it throws `CancellationError`
    /// (a BLPOP that was not interrupted would instead return nil after its 60 s timeout), and
    /// the lane works for the next blocking call. No wall-clock bound: the behaviour is the check.
    @Test func cancellingABlockingCommand() async throws {
        try await withSharedRedis { client, ns in
            let key = RedisArgument(ns + "never")
            let waiter = Task {
                try await client.sendBlocking(RedisCommand("BLPOP", [key, 60]), blockTimeout: .seconds(60))
            }
            // Cancel once the server reports a client blocked (bounded wait), so the in-flight
            // path is exercised, not just the queued one.
            var blocked = false
            for _ in 0..<500 where !blocked {
                let clients = try await client.send("CLIENT", "LIST").decodeString()
                blocked = clients.split(separator: "\n").contains { $0.contains("cmd=blpop") }
                if !blocked { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(blocked)
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            // The lane reconnects for the next blocking call.
            _ = try await client.send("RPUSH", RedisArgument(ns + "next"), "x")
            #expect(
                try await client.sendBlocking(RedisCommand("BLPOP", [RedisArgument(ns + "next"), 5]), blockTimeout: .seconds(5))
                    == .array([.bulk(Array((ns + "next").utf8)), .bulk(Array("x".utf8))]))
        }
    }

    @Test func closeInterruptsBlockingCommand() async throws {
        let server = try await RedisServerFixture.shared()
        let client = server.makeClient()
        let waiter = Task {
            try await client.sendBlocking(RedisCommand("BLPOP", [RedisArgument(RedisServerFixture.uniqueNamespace() + "x"), 10]), blockTimeout: .seconds(10))
        }
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        await client.close()
        await #expect {
            try await waiter.value
        } throws: { error in
            (error as? RedisError)?.code == .clientClosed
        }
        #expect(ContinuousClock.now - started < .seconds(2))
    }
}
