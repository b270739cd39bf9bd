import JobqRedis
import JobqTestSupport
import Testing

@Suite(.enabled(if: RedisServerFixture.shouldRun))
struct BlockingLaneTests {
    /// BLPOP blocks a lane of its own: PINGs on the main lane finish long before it returns.
    @Test func blockingCommandDoesNotStallMainLane() async throws {
        try await withSharedRedis { client, ns in
            let clock = ContinuousClock()
            let started = clock.now
            let blpop = Task { () -> (RedisValue, ContinuousClock.Instant) in
                let reply = try await client.sendBlocking(RedisCommand("BLPOP", [RedisArgument(ns + "empty"), 2]), blockTimeout: .seconds(2))
                return (reply, clock.now)
            }
            try await Task.sleep(for: .milliseconds(50))  // let BLPOP reach the server
            for _ in 0..<20 {
                #expect(try await client.send("PING") == .status("PONG"))
            }
            let pingsDone = clock.now
            let (reply, blpopDone) = try await blpop.value
            #expect(reply == .null)  // timed out: nil array
            #expect(blpopDone - started >= .milliseconds(1900))
            // Had the PINGs waited behind the BLPOP they would end after it; allow for a loaded machine.
            #expect(blpopDone - pingsDone > .milliseconds(500), "PINGs finished \(pingsDone - started) in, BLPOP \(blpopDone - started)")
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

    @Test func cancellingABlockingCommand() async throws {
        try await withSharedRedis { client, ns in
            let started = ContinuousClock.now
            let waiter = Task {
                try await client.sendBlocking(RedisCommand("BLPOP", [RedisArgument(ns + "never"), 10]), blockTimeout: .seconds(10))
            }
            try await Task.sleep(for: .milliseconds(100))
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(ContinuousClock.now - started < .seconds(3))
            // The lane reconnects for the next blocking call.
            _ = try await client.send("RPUSH", RedisArgument(ns + "next"), "x")
            #expect(
                try await client.sendBlocking(RedisCommand("BLPOP", [RedisArgument(ns + "next"), 1]), blockTimeout: .seconds(1)).array?.count
                    == 2)
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
