import JobqRedis
import JobqTestSupport
import Testing

@Suite(.enabled(if: RedisServerFixture.shouldRun))
struct AuthTests {
    static let serverConfig = [
        "requirepass sekrit",
        "user alice on >alicepw ~* &* +ping +get +select",
    ]

    @Test func passwordAndACL() async throws {
        try await withRedisServer(extraConfig: Self.serverConfig) { server in
            // Right password (default user), with SELECT of another database.
            let good = server.makeClient {
                $0.password = "sekrit"
                $0.database = 2
            }
            try await good.connect()
            _ = try await good.send("SET", "where", "db2")
            #expect(try await good.send("GET", "where") == .bulk(Array("db2".utf8)))
            await good.close()
            let db0 = server.makeClient { $0.password = "sekrit" }
            #expect(try await db0.send("GET", "where") == .null)
            await db0.close()

            // Wrong password.
            let wrong = server.makeClient { $0.password = "nope" }
            await #expect {
                try await wrong.connect()
            } throws: { error in
                guard let error = error as? RedisError else { return false }
                return error.code == .authenticationFailed && error.serverError?.prefix == "WRONGPASS"
                    && error.description.contains(server.socketPath)
            }
            // Commands fail the same way (and quickly: AUTH refusals are not retried).
            let started = ContinuousClock.now
            await #expect {
                try await wrong.send("PING")
            } throws: { error in
                (error as? RedisError)?.code == .authenticationFailed
            }
            #expect(ContinuousClock.now - started < .seconds(1))
            await wrong.close()

            // No password at all.
            let none = server.makeClient()
            await #expect {
                try await none.connect()
            } throws: { error in
                guard let error = error as? RedisError else { return false }
                return error.code == .authenticationFailed && error.serverError?.prefix == "NOAUTH"
            }
            await none.close()

            // ACL user: allowed command works, a missing permission is NOPERM.
            let alice = server.makeClient {
                $0.username = "alice"
                $0.password = "alicepw"
            }
            try await alice.connect()
            #expect(try await alice.send("GET", "x") == .null)
            await #expect {
                try await alice.send("SET", "x", "1")
            } throws: { error in
                guard let error = error as? RedisError else { return false }
                return error.code == .server && error.serverError?.prefix == "NOPERM"
            }
            await alice.close()

            // The same through a URL.
            let viaURL = RedisClient(configuration: try RedisConfiguration(url: "unix://alice:alicepw@\(server.socketPath)"))
            #expect(try await viaURL.send("PING") == .status("PONG"))
            await viaURL.close()
        }
    }

    @Test func connectionRefused() async throws {
        let path = "/tmp/jobq-no-such-dir-\(UInt32.random(in: 0...UInt32.max))/redis.sock"
        var configuration = RedisConfiguration(endpoint: .unix(path: path))
        configuration.reconnectWindow = .milliseconds(100)
        let client = RedisClient(configuration: configuration)
        let started = ContinuousClock.now
        do {
            try await client.connect()
            Issue.record("connect must fail")
        } catch let error as RedisError {
            #expect(error.code == .connectFailed)
            #expect(error.description.contains(path))
            #expect(error.description.contains("No such file or directory"))
            #expect(error.description.contains("redis-server running"))
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        await client.close()

        // TCP: nothing listens on port 1.
        var tcp = RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: 1))
        tcp.reconnectWindow = .zero
        let tcpClient = RedisClient(configuration: tcp)
        await #expect {
            try await tcpClient.send("PING")
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .connectFailed && error.message.contains("127.0.0.1:1")
        }
        await tcpClient.close()
    }

    @Test func closedClientRefusesWork() async throws {
        let client = try await RedisServerFixture.shared().makeClient()
        do {
            #expect(try await client.send("PING") == .status("PONG"))
            await client.close()
            await #expect {
                try await client.send("PING")
            } throws: { error in
                (error as? RedisError)?.code == .clientClosed
            }
            await #expect {
                try await client.sendBlocking(RedisCommand("BLPOP", ["x", 1]), blockTimeout: .seconds(1))
            } throws: { error in
                (error as? RedisError)?.code == .clientClosed
            }
        }
    }
}
