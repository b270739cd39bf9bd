import JobqRedis
import JobqTestSupport
import Testing

/// Failures of the server or the connection. Each test has a private server.
@Suite(.enabled(if: RedisServerFixture.shouldRun))
struct ReconnectTests {
    /// After a restart, the first command succeeds: the idle connection is seen to be closed
    /// before anything is sent, and a new one is made (with AUTH and SELECT again).
    @Test func firstCommandAfterRestartSucceeds() async throws {
        try await withRedisServer(extraConfig: ["requirepass pw"]) { server in
            let client = server.makeClient {
                $0.password = "pw"
                $0.database = 3
            }
            _ = try await client.send("SET", "k", "before")
            for round in 1...2 {
                try await server.restart()
                // No data survives (no persistence); what matters is that this does not throw.
                #expect(try await client.send("SET", "k", RedisArgument("after\(round)")) == .status("OK"))
                #expect(try await client.send("GET", "k") == .bulk(Array("after\(round)".utf8)))
                // SELECT was re-applied on the new connection.
                let info = try await client.send("CLIENT", "INFO").decodeString()
                #expect(info.contains(" db=3 "))
            }
            await client.close()
        }
    }

    /// The same over TCP, where a write to a connection the peer closed still "succeeds" (so
    /// only the idle-socket check before sending avoids an `.outcomeUnknown`).
    @Test func firstCommandAfterRestartSucceedsOverTCP() async throws {
        // The free port may be taken between our check and redis' bind: try a few.
        var started: (RedisServerFixture, Int)?
        for _ in 0..<3 where started == nil {
            let port = try RedisServerFixture.freeTCPPort()
            if let server = try? await RedisServerFixture.start(extraConfig: ["port \(port)", "bind 127.0.0.1"]) {
                started = (server, port)
            }
        }
        guard let (server, port) = started else {
            Issue.record("cannot start redis-server on a TCP port")
            return
        }
        do {
            var configuration = server.configuration
            configuration.endpoint = .tcp(host: "127.0.0.1", port: port)
            let client = RedisClient(configuration: configuration)
            #expect(try await client.send("SET", "k", "v") == .status("OK"))
            for round in 1...3 {
                try await server.restart()
                #expect(try await client.send("ECHO", RedisArgument("round\(round)")) == .bulk(Array("round\(round)".utf8)))
            }
            await client.close()
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// A server killed while a command is running: that command fails with a connection error
    /// (never a silent re-send), and the client works again once the server is back.
    @Test func serverKilledMidCommand() async throws {
        try await withRedisServer(extraConfig: ["enable-debug-command yes"]) { server in
            let client = server.makeClient()
            #expect(try await client.send("PING") == .status("PONG"))
            let slow = Task { try await client.send("DEBUG", "SLEEP", "5") }
            try await Task.sleep(for: .milliseconds(200))
            await server.kill()
            do {
                _ = try await slow.value
                Issue.record("the command must not succeed")
            } catch let error as RedisError {
                #expect(error.code == .outcomeUnknown || error.code == .connectionClosed || error.code == .io)
                #expect(error.description.contains("may or may not have run"))
            }
            // Down: commands fail with connectFailed after the reconnect window…
            await #expect {
                try await client.send("PING")
            } throws: { error in
                (error as? RedisError)?.code == .connectFailed
            }
            // …and succeed once it is back.
            try await server.launch()
            #expect(try await client.send("PING") == .status("PONG"))
            await client.close()
        }
    }

    /// A server that comes back within the reconnect window is waited for.
    @Test func reconnectsWithinWindow() async throws {
        try await withRedisServer { server in
            let client = server.makeClient { $0.reconnectWindow = .seconds(5) }
            #expect(try await client.send("PING") == .status("PONG"))
            await server.kill()
            let relaunch = Task {
                try await Task.sleep(for: .milliseconds(300))
                try await server.launch()
            }
            let started = ContinuousClock.now
            #expect(try await client.send("PING") == .status("PONG"))
            #expect(ContinuousClock.now - started >= .milliseconds(250))
            try await relaunch.value
            await client.close()
        }
    }

    /// A reply later than commandTimeout: `.timeout`, the connection is dropped (the late reply
    /// must not be taken for the next command's), and the client recovers.
    @Test func commandTimeout() async throws {
        try await withRedisServer(extraConfig: ["enable-debug-command yes"]) { server in
            let client = server.makeClient { $0.commandTimeout = .milliseconds(200) }
            #expect(try await client.send("PING") == .status("PONG"))
            let started = ContinuousClock.now
            do {
                _ = try await client.send("DEBUG", "SLEEP", "2")
                Issue.record("DEBUG SLEEP 2 must time out")
            } catch let error as RedisError {
                #expect(error.code == .timeout)
            }
            // `.timeout` itself shows the client gave up before the reply (a late reply would have
            // been a value); only the lower bound is timing-safe on a loaded machine.
            #expect(ContinuousClock.now - started >= .milliseconds(150))
            try await Task.sleep(for: .seconds(2))  // let the server finish sleeping
            #expect(try await client.send("ECHO", "fresh") == .bulk(Array("fresh".utf8)))
            #expect(try await client.send("PING") == .status("PONG"))
            await client.close()
        }
    }

    /// Concurrent callers while the server restarts: nobody hangs; afterwards everything works.
    @Test func concurrentTrafficAcrossRestart() async throws {
        try await withRedisServer { server in
            let client = server.makeClient()
            let traffic = Task {
                var failures = 0
                for i in 0..<400 {
                    do {
                        let reply = try await client.send("ECHO", RedisArgument("\(i)"))
                        #expect(reply == .bulk(Array("\(i)".utf8)))
                    } catch let error as RedisError {
                        #expect([.outcomeUnknown, .connectFailed, .io].contains(error.code))
                        failures += 1
                    }
                }
                return failures
            }
            try await Task.sleep(for: .milliseconds(20))
            try await server.restart()
            let failures = try await traffic.value
            #expect(failures <= 400)
            #expect(try await client.send("PING") == .status("PONG"))
            await client.close()
        }
    }
}
