import JobqRedis
import JobqTestSupport
import Testing

/// Every reply type and binary safety, against the shared redis-server.
@Suite(.enabled(if: RedisServerFixture.shouldRun))
struct RoundTripTests {
    @Test func replyTypes() async throws {
        try await withSharedRedis { client, ns in
            #expect(try await client.send("SET", RedisArgument(ns + "s"), "v") == .status("OK"))
            #expect(try await client.send("GET", RedisArgument(ns + "s")) == .bulk(Array("v".utf8)))
            #expect(try await client.send("GET", RedisArgument(ns + "missing")) == .null)
            #expect(try await client.send("INCRBY", RedisArgument(ns + "i"), -5) == .integer(-5))
            #expect(try await client.send("INCRBY", RedisArgument(ns + "i"), RedisArgument(1 << 62)) == .integer((1 << 62) - 5))
            #expect(try await client.send("SET", RedisArgument(ns + "empty"), "") == .status("OK"))
            #expect(try await client.send("GET", RedisArgument(ns + "empty")) == .bulk([]))
            #expect(try await client.send("RPUSH", RedisArgument(ns + "l"), "a", "b", "c") == .integer(3))
            #expect(
                try await client.send("LRANGE", RedisArgument(ns + "l"), 0, -1)
                    == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8)), .bulk(Array("c".utf8))]))
            #expect(try await client.send("LRANGE", RedisArgument(ns + "none"), 0, -1) == .array([]))
            let nested = try await client.send("EVAL", "return {1, {2, 'x', {}}, 'y', redis.status_reply('FINE')}", 0)
            #expect(
                nested
                    == .array([
                        .integer(1), .array([.integer(2), .bulk(Array("x".utf8)), .array([])]), .bulk(Array("y".utf8)), .status("FINE"),
                    ]))
            // A nil inside an array (MGET of a missing key).
            #expect(
                try await client.send("MGET", RedisArgument(ns + "s"), RedisArgument(ns + "missing"))
                    == .array([.bulk(Array("v".utf8)), .null]))
        }
    }

    @Test func errorReplies() async throws {
        try await withSharedRedis { client, ns in
            _ = try await client.send("SET", RedisArgument(ns + "str"), "x")
            do {
                _ = try await client.send("LPUSH", RedisArgument(ns + "str"), "y")
                Issue.record("LPUSH on a string must fail")
            } catch let error as RedisError {
                #expect(error.code == .server)
                #expect(error.serverError?.prefix == "WRONGTYPE")
                #expect(error.description.contains("WRONGTYPE"))
            }
            do {
                _ = try await client.send("NOSUCHCOMMAND")
                Issue.record("unknown command must fail")
            } catch let error as RedisError {
                #expect(error.serverError?.prefix == "ERR")
            }
            do {
                _ = try await client.send("EVAL", "return redis.error_reply('MYCODE went wrong')", 0)
                Issue.record("error_reply must fail")
            } catch let error as RedisError {
                #expect(error.serverError?.prefix == "MYCODE")
                #expect(error.serverError?.message == "MYCODE went wrong")
            }
            // The connection is fine after error replies.
            #expect(try await client.send("PING") == .status("PONG"))
        }
    }

    @Test func binarySafety() async throws {
        try await withSharedRedis { client, ns in
            let key = RedisArgument(bytes: Array((ns + "bin\0key\r\n").utf8))
            let allBytes = (0...255).map { UInt8($0) } + Array("\r\n\0\r\n$5\r\n*1\r\n".utf8)
            _ = try await client.send("SET", key, RedisArgument(bytes: allBytes))
            #expect(try await client.send("GET", key) == .bulk(allBytes))
            #expect(try await client.send("STRLEN", key) == .integer(allBytes.count))

            var generator = SystemRandomNumberGenerator()
            let mebibyte = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let bigKey = RedisArgument(ns + "big")
            _ = try await client.send("SET", bigKey, RedisArgument(bytes: mebibyte))
            #expect(try await client.send("GET", bigKey).bytes == mebibyte)
            #expect(try await client.send("STRLEN", bigKey) == .integer(1 << 20))

            // Several 1 MiB values in one pipeline, both ways.
            let keys = (0..<4).map { RedisArgument(ns + "big\($0)") }
            let sets = keys.map { RedisCommand("SET", [$0, RedisArgument(bytes: mebibyte)]) }
            #expect(try await client.pipeline(sets) == Array(repeating: .status("OK"), count: 4))
            let gets = try await client.pipeline(keys.map { RedisCommand("GET", [$0]) })
            #expect(gets.allSatisfy { $0.bytes == mebibyte })
        }
    }
}
