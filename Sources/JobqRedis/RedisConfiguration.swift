/// Where redis is and how to talk to it.
public struct RedisConfiguration: Sendable {
    /// A TCP host and port, or a Unix socket path.
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unix(path: String)

        /// The endpoint as a URL without credentials, for messages.
        public var description: String {
            switch self {
            case .tcp(let host, let port):
                return host.contains(":") ? "redis://[\(host)]:\(port)" : "redis://\(host):\(port)"
            case .unix(let path):
                return "unix://\(path)"
            }
        }
    }

    public var endpoint: Endpoint
    /// ACL user (Redis 6+); sent as `AUTH username password`.
    public var username: String?
    /// Sent with AUTH on every (re)connect.
    public var password: String?
    /// Selected with SELECT on every (re)connect when not 0.
    public var database: Int
    /// How long one connection attempt may take.
    public var connectTimeout: Duration = .seconds(2)
    /// Read (and write) timeout for normal commands. `.zero` waits forever.
    public var commandTimeout: Duration = .seconds(5)
    /// How long a command keeps trying to (re)connect, with exponential backoff from 10 ms to
    /// 500 ms, before failing with `.connectFailed`.
    public var reconnectWindow: Duration = .seconds(2)
    /// How long the main lane thread keeps polling its queue after a batch before it sleeps. A
    /// caller that sends its next command within this time costs no thread wake-up (~5–10 µs).
    /// Costs at most this much CPU per batch; `.zero` never spins.
    public var idleSpin: Duration = .microseconds(50)
    /// How long the main lane thread polls the socket for a reply before blocking in `read`. A
    /// reply that comes within it costs no thread wake-up. `.zero` never spins.
    public var replySpin: Duration = .microseconds(50)

    public init(endpoint: Endpoint, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
    }
}
