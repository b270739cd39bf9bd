/// A failure of the redis client: what happened, and what to do about it.
///
/// A struct with an open set of codes (not an enum) so that new codes don't break callers'
/// `switch` statements. ``message`` is written for a human: it names the endpoint or command
/// involved and, where there is one, the usual fix.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. Compare with `==` against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A redis URL could not be parsed.
        public static let invalidURL = Code("invalidURL")
        /// No connection could be made within the reconnect window (refused, no socket, DNS…).
        public static let connectFailed = Code("connectFailed")
        /// AUTH was refused (wrong password or user), or the server wants a password we lack.
        public static let authenticationFailed = Code("authenticationFailed")
        /// A socket read or write failed before anything was sent.
        public static let io = Code("io")
        /// The server closed the connection.
        public static let connectionClosed = Code("connectionClosed")
        /// The server sent bytes that are not RESP2.
        public static let protocolError = Code("protocolError")
        /// No reply within the read timeout; the command may or may not have run.
        public static let timeout = Code("timeout")
        /// The connection broke after the command was (possibly) sent: it may or may not have run.
        public static let outcomeUnknown = Code("outcomeUnknown")
        /// redis-server answered with an error reply; see ``RedisError/serverError``.
        public static let server = Code("server")
        /// A reply did not have the shape the caller expected.
        public static let unexpectedReply = Code("unexpectedReply")
        /// The client was closed.
        public static let clientClosed = Code("clientClosed")
    }

    public let code: Code
    public let message: String
    /// The server's error reply, for ``Code/server`` (and for AUTH/SELECT failures).
    public let serverError: RedisServerError?

    public init(code: Code, message: String, serverError: RedisServerError? = nil) {
        self.code = code
        self.message = message
        self.serverError = serverError
    }

    public var description: String { "redis error (\(code)): \(message)" }
}

extension RedisError {
    /// An error reply to a command, thrown by `send`.
    static func server(_ error: RedisServerError) -> RedisError {
        RedisError(code: .server, message: "redis-server replied: \(error.message)", serverError: error)
    }

    static func unexpected(_ what: String, got value: RedisValue) -> RedisError {
        RedisError(
            code: .unexpectedReply,
            message: "expected \(what) but redis replied \(value.shortDescription) — the key may hold another type, or the command changed"
        )
    }

    static let closed = RedisError(
        code: .clientClosed,
        message: "the RedisClient was closed; create a new client to send more commands"
    )
}
