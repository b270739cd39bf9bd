import JobqRedis
import JobqTestSupport
import Testing

/// Scripts run on private servers: SCRIPT FLUSH must not disturb tests on the shared one.
@Suite(.enabled(if: RedisServerFixture.shouldRun))
struct ScriptTests {
    static let sources = [
        "return 1",
        "return redis.call('GET', KEYS[1])",
        "-- héllo wörld ✓\nreturn ARGV[1] .. ARGV[2]",
        String(repeating: "-- padding line\n", count: 40) + "return 'long'",
        String(repeating: "x", count: 45) + " = 1 return 55",  // 55/56/64-byte padding edges
        String(repeating: "y", count: 46) + " = 1 return 56",
        String(repeating: "z", count: 54) + " = 1 return 64",
    ]

    @Test func sha1MatchesScriptLoad() async throws {
        try await withSharedRedis { client, _ in
            for source in Self.sources {
                let script = RedisScript(name: "t", source: source)
                let loaded = try await client.send("SCRIPT", "LOAD", RedisArgument(source)).decodeString()
                #expect(loaded == script.sha1, "SHA-1 of \(source.prefix(30))")
            }
        }
    }

    @Test func evalScriptRecoversFromNoscript() async throws {
        try await withRedisServer { server in
            let client = server.makeClient()
            let script = RedisScript(name: "concat", source: "return ARGV[1] .. ':' .. redis.call('INCR', KEYS[1])")
            #expect(try await client.evalScript(script, keys: ["n"], args: ["a"]) == .bulk(Array("a:1".utf8)))
            #expect(try await client.evalScript(script, keys: ["n"], args: ["b"]) == .bulk(Array("b:2".utf8)))
            _ = try await client.send("SCRIPT", "FLUSH")
            #expect(try await client.send("SCRIPT", "EXISTS", RedisArgument(script.sha1)) == .array([.integer(0)]))
            #expect(try await client.evalScript(script, keys: ["n"], args: ["c"]) == .bulk(Array("c:3".utf8)))
            #expect(try await client.send("SCRIPT", "EXISTS", RedisArgument(script.sha1)) == .array([.integer(1)]))

            // Script errors keep their prefix; a script that does not compile fails clearly.
            let failing = RedisScript(name: "fails", source: "return redis.error_reply('BADSTATE task is done')")
            await #expect {
                try await client.evalScript(failing, keys: [], args: [])
            } throws: { error in
                (error as? RedisError)?.serverError?.prefix == "BADSTATE"
            }
            let broken = RedisScript(name: "broken", source: "return +")
            await #expect {
                try await client.evalScript(broken, keys: [], args: [])
            } throws: { error in
                (error as? RedisError)?.code == .server
            }
            await client.close()
        }
    }

    @Test func pipelinedScriptsRecoverFromNoscript() async throws {
        try await withRedisServer { server in
            let client = server.makeClient()
            let incr = RedisScript(name: "incr", source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")
            let echo = RedisScript(name: "echo", source: "return ARGV[1]")
            let broken = RedisScript(name: "broken", source: "this is not lua")
            let calls = [
                RedisCommand("SET", ["plain", "1"]),
                RedisCommand.evalsha(incr, keys: ["n"], args: [5]),
                RedisCommand("GET", ["plain"]),
                RedisCommand.evalsha(echo, keys: [], args: ["hi"]),
                RedisCommand.evalsha(incr, keys: ["n"], args: [10]),
                RedisCommand.evalsha(broken, keys: [], args: []),
            ]
            func check(_ replies: [RedisValue], n1: Int, n2: Int) {
                #expect(replies.count == 6)
                #expect(replies[0] == .status("OK"))
                #expect(replies[1] == .integer(n1))
                #expect(replies[2] == .bulk(Array("1".utf8)))
                #expect(replies[3] == .bulk(Array("hi".utf8)))
                #expect(replies[4] == .integer(n2))
                guard case .error(let error) = replies[5] else {
                    Issue.record("a script that does not compile must give an error, got \(replies[5])")
                    return
                }
                #expect(error.prefix != "NOSCRIPT")
            }
            check(try await client.pipelineScripts(calls), n1: 5, n2: 15)  // nothing loaded yet
            check(try await client.pipelineScripts(calls), n1: 20, n2: 30)  // loaded
            _ = try await client.send("SCRIPT", "FLUSH")
            check(try await client.pipelineScripts(calls), n1: 35, n2: 45)  // flushed again
            try await client.loadScripts([incr, echo])
            await client.close()
        }
    }
}
