/// One redis command: its argv, formatted as RESP on the caller's side before it reaches a lane.
public struct RedisCommand: Sendable, Hashable {
    /// The whole argv, command name first.
    public private(set) var arguments: [RedisArgument]
    /// The script an `EVALSHA` command runs, so NOSCRIPT can be recovered from.
    public let script: RedisScript?

    /// A command: `name` is argv[0] (one word, e.g. `"SET"`; for `SCRIPT LOAD` pass `"SCRIPT", ["LOAD", …]`).
    public init(_ name: String, _ args: [RedisArgument] = []) {
        var argv: [RedisArgument] = []
        argv.reserveCapacity(args.count + 1)
        argv.append(RedisArgument(name))
        argv.append(contentsOf: args)
        self.arguments = argv
        self.script = nil
    }

    public init(_ name: String, _ args: RedisArgument...) {
        self.init(name, args)
    }

    private init(arguments: [RedisArgument], script: RedisScript?) {
        self.arguments = arguments
        self.script = script
    }

    /// `EVALSHA sha numkeys keys… args…`, remembering the script for NOSCRIPT recovery.
    public static func evalsha(_ script: RedisScript, keys: [RedisArgument], args: [RedisArgument]) -> RedisCommand {
        var argv: [RedisArgument] = []
        argv.reserveCapacity(3 + keys.count + args.count)
        argv.append(RedisArgument.evalsha)
        argv.append(script.sha1Argument)
        argv.append(keys.count < RedisArgument.smallIntegers.count ? RedisArgument.smallIntegers[keys.count] : RedisArgument(keys.count))
        argv.append(contentsOf: keys)
        argv.append(contentsOf: args)
        return RedisCommand(arguments: argv, script: script)
    }

    /// `FCALL function numkeys keys… args…` (Redis Functions).
    public static func fcall(_ function: RedisArgument, keys: [RedisArgument], args: [RedisArgument]) -> RedisCommand {
        var argv: [RedisArgument] = []
        argv.reserveCapacity(3 + keys.count + args.count)
        argv.append(RedisArgument.fcall)
        argv.append(function)
        argv.append(keys.count < RedisArgument.smallIntegers.count ? RedisArgument.smallIntegers[keys.count] : RedisArgument(keys.count))
        argv.append(contentsOf: keys)
        argv.append(contentsOf: args)
        return RedisCommand(arguments: argv, script: nil)
    }

    /// `FUNCTION LOAD REPLACE source`.
    public static func functionLoad(_ library: RedisFunctionLibrary) -> RedisCommand {
        RedisCommand("FUNCTION", ["LOAD", "REPLACE", RedisArgument(library.source)])
    }

    /// `SCRIPT LOAD source`.
    public static func scriptLoad(_ script: RedisScript) -> RedisCommand {
        RedisCommand("SCRIPT", ["LOAD", RedisArgument(script.source)])
    }

    /// argv[0], upper-cased.
    public var name: String {
        String(decoding: arguments[0].bytes, as: UTF8.self).uppercased()
    }
}

// MARK: - RESP encoding

extension RedisCommand {
    /// The number of bytes ``encode(into:)`` appends.
    var encodedCount: Int {
        var n = 3 + RESP.digitCount(arguments.count)
        for a in arguments {
            n += 5 + RESP.digitCount(a.bytes.count) + a.bytes.count
        }
        return n
    }

    /// Appends `*N\r\n$len\r\narg\r\n…` to `buffer`.
    func encode(into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "*"))
        RESP.appendDecimal(arguments.count, to: &buffer)
        buffer.append(13)
        buffer.append(10)
        for a in arguments {
            buffer.append(UInt8(ascii: "$"))
            RESP.appendDecimal(a.bytes.count, to: &buffer)
            buffer.append(13)
            buffer.append(10)
            buffer.append(contentsOf: a.bytes)
            buffer.append(13)
            buffer.append(10)
        }
    }

    /// This command as RESP bytes.
    var encoded: [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(encodedCount)
        encode(into: &buffer)
        return buffer
    }

    /// Several commands as one RESP buffer, in order.
    static func encode(_ commands: [RedisCommand]) -> [UInt8] {
        var total = 0
        for c in commands { total += c.encodedCount }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(total)
        for c in commands { c.encode(into: &buffer) }
        return buffer
    }
}

/// RESP number formatting without going through `String`.
enum RESP {
    static func digitCount(_ n: Int) -> Int {
        var n = n
        var d = 1
        while n >= 10 {
            n /= 10
            d += 1
        }
        return d
    }

    /// Appends the decimal digits of a non-negative `n`.
    static func appendDecimal(_ n: Int, to buffer: inout [UInt8]) {
        if n < 10 {
            buffer.append(UInt8(truncatingIfNeeded: 48 + n))
            return
        }
        let count = digitCount(n)
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: count))
        var n = n
        var i = start + count - 1
        while i >= start {
            buffer[i] = UInt8(truncatingIfNeeded: 48 + n % 10)
            n /= 10
            i -= 1
        }
    }
}
