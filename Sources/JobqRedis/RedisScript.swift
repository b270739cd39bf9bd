/// A Lua script run with EVALSHA; its SHA-1 is computed in Swift, so no SCRIPT LOAD is needed
/// until the server answers NOSCRIPT.
public struct RedisScript: Sendable, Hashable {
    /// A name for logs and errors (e.g. `"complete"`).
    public let name: String
    /// The Lua source.
    public let source: String
    /// Lower-case hex SHA-1 of `source`'s UTF-8 bytes: what SCRIPT LOAD returns.
    public let sha1: String
    /// `sha1` as an argument, built once (EVALSHA is the hot path).
    let sha1Argument: RedisArgument

    public init(name: String, source: String) {
        self.name = name
        self.source = source
        self.sha1 = SHA1.hexDigest(Array(source.utf8))
        self.sha1Argument = RedisArgument(sha1)
    }
}
