/// An error reply from redis-server (`-WRONGTYPE Operation against a key …`).
///
/// The first word of the reply is parsed into ``prefix`` once, here, so that callers switch on
/// the code (`NOSCRIPT`, `WRONGTYPE`, `OOM`, `NOPERM`, `BUSY`, `READONLY`, `ERR`, `WRONGPASS`,
/// `NOAUTH`, or a script's own code) and never match message text.
public struct RedisServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The first word of the error reply, e.g. `NOSCRIPT`.
    public let prefix: String
    /// The whole error reply as redis sent it, prefix included.
    public let message: String

    /// Parses an error reply line: the prefix is everything before the first space.
    public init(message: String) {
        self.message = message
        if let space = message.firstIndex(of: " ") {
            self.prefix = String(message[..<space])
        } else {
            self.prefix = message
        }
    }

    public var description: String { message }
}
