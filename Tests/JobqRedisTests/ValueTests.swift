import Testing
@testable import JobqRedis

/// Pure parts: RESP encoding, error-prefix parsing, decoders, SHA-1 test vectors.
@Suite struct ValueTests {
    @Test func respEncoding() {
        let command = RedisCommand("SET", ["k", RedisArgument(bytes: [0, 13, 10]), 12])
        let expected = "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\0\r\n\r\n$2\r\n12\r\n"
        #expect(command.encoded == Array(expected.utf8))
        #expect(command.encodedCount == command.encoded.count)
        #expect(RedisCommand.encode([command, command]) == command.encoded + command.encoded)
    }

    @Test func respEncodingLongArgument() {
        let big = RedisArgument(bytes: [UInt8](repeating: 7, count: 123_456))
        let command = RedisCommand("SET", ["key", big])
        let encoded = command.encoded
        #expect(encoded.count == command.encodedCount)
        #expect(encoded.starts(with: Array("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$123456\r\n".utf8)))
        #expect(encoded.suffix(3) == [7, 13, 10])
    }

    @Test func evalshaArgv() {
        let script = RedisScript(name: "t", source: "return 1")
        let command = RedisCommand.evalsha(script, keys: ["a", "b"], args: ["x"])
        #expect(command.arguments.map { String(decoding: $0.bytes, as: UTF8.self) } == ["EVALSHA", script.sha1, "2", "a", "b", "x"])
        #expect(command.script == script)
        #expect(command.name == "EVALSHA")
    }

    @Test func serverErrorPrefix() {
        let e = RedisServerError(message: "NOSCRIPT No matching script. Please use EVAL.")
        #expect(e.prefix == "NOSCRIPT")
        #expect(e.message == "NOSCRIPT No matching script. Please use EVAL.")
        #expect(RedisServerError(message: "OOM").prefix == "OOM")
        #expect(RedisServerError(message: "").prefix == "")
    }

    @Test func arguments() {
        #expect(RedisArgument(42).bytes == Array("42".utf8))
        #expect(RedisArgument(-7).bytes == Array("-7".utf8))
        #expect(RedisArgument(1.5).bytes == Array("1.5".utf8))
        #expect(RedisArgument(Double.infinity).bytes == Array("+inf".utf8))
        #expect(RedisArgument(-Double.infinity).bytes == Array("-inf".utf8))
        let literal: RedisArgument = "héllo"
        #expect(literal.bytes == Array("héllo".utf8))
    }

    @Test func decoders() throws {
        #expect(try RedisValue.integer(5).decodeInt() == 5)
        #expect(try RedisValue.bulk(Array("17".utf8)).decodeInt() == 17)
        #expect(try RedisValue.bulk(Array("2.5".utf8)).decodeDouble() == 2.5)
        #expect(try RedisValue.null.decodeOptionalString() == nil)
        #expect(try RedisValue.status("OK").decodeString() == "OK")
        #expect(try RedisValue.array([.integer(1)]).decodeArray() == [.integer(1)])
        #expect(RedisValue.null.isNull)
        #expect(RedisValue.bulk([1, 2]).bytes == [1, 2])
        #expect(throws: RedisError.self) { try RedisValue.bulk(Array("x".utf8)).decodeInt() }
        #expect(throws: RedisError.self) { try RedisValue.integer(1).decodeArray() }
        do {
            _ = try RedisValue.error(RedisServerError(message: "WRONGTYPE bad")).decodeString()
            Issue.record("should throw")
        } catch let error as RedisError {
            #expect(error.code == .server)
            #expect(error.serverError?.prefix == "WRONGTYPE")
        }
        do {
            _ = try RedisValue.integer(3).decodeString()
            Issue.record("should throw")
        } catch let error as RedisError {
            #expect(error.code == .unexpectedReply)
        }
    }

    @Test func sha1Vectors() {
        #expect(SHA1.hexDigest([]) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(SHA1.hexDigest(Array("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(
            SHA1.hexDigest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(
            SHA1.hexDigest(Array("The quick brown fox jumps over the lazy dog".utf8))
                == "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12")
        #expect(SHA1.hexDigest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }
}
