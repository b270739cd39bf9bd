/// One element of a command's argv: bytes, sent as a RESP bulk string (binary safe).
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public var bytes: [UInt8]

    /// The UTF-8 bytes of `s`.
    public init(_ s: String) { bytes = Array(s.utf8) }

    /// The decimal form of `i`, as redis expects integers.
    public init(_ i: Int) { bytes = Array(String(i).utf8) }

    /// A decimal form redis parses with `strtod` (`inf`/`-inf` for infinities).
    public init(_ d: Double) {
        if d == .infinity {
            bytes = Array("+inf".utf8)
        } else if d == -.infinity {
            bytes = Array("-inf".utf8)
        } else {
            bytes = Array(d.description.utf8)
        }
    }

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public init(stringLiteral value: String) { self.init(value) }

    public init(integerLiteral value: Int) { self.init(value) }
}

extension RedisArgument {
    /// Arguments the client itself sends often, built once.
    static let evalsha = RedisArgument("EVALSHA")
    static let fcall = RedisArgument("FCALL")
    static let smallIntegers = (0..<16).map { RedisArgument($0) }
}
