import JobqRedis

/// The task state machine, as seen from Swift: every method that changes a task runs exactly one
/// Lua script (``Scripts``); reads use plain commands.
///
/// The coordinator is not a process. It is this value, used by producers and by every worker, and
/// the scripts make its transitions atomic, so there is nothing to fail over.
public struct Coordinator: Sendable {
    public let redis: RedisClient
    public let keys: Keyspace
    public let clock: JobqClock
    public let limits: Limits
    /// How long an idempotency key is remembered.
    public var idempotencyWindow: Duration = .seconds(24 * 3600)

    public init(redis: RedisClient, namespace: String = "default", clock: JobqClock = .redis, limits: Limits = Limits()) throws(JobqError) {
        self.redis = redis
        self.keys = try Keyspace(namespace: namespace)
        self.clock = clock
        self.limits = limits
    }

    /// Runs `script` with the namespace prefix as `KEYS[1]` and "now" as `ARGV[1]`.
    func run(_ script: RedisScript, _ arguments: [RedisArgument]) async throws(JobqError) -> [RedisValue] {
        let value: RedisValue
        do {
            value = try await redis.evalScript(
                script,
                keys: [RedisArgument(keys.prefix)],
                args: [RedisArgument(Int(clock.scriptArgument))] + arguments
            )
        } catch {
            throw Self.translate(error, doing: script.name)
        }
        guard let reply = value.array, reply.first?.int != nil else {
            throw JobqError(.internalError, "script \(script.name) returned \(value), not a status array")
        }
        return reply
    }

    /// A Redis failure as a ``JobqError``: see ``JobqError/init(translating:doing:)``.
    public static func translate(_ error: any Error, doing what: String) -> JobqError {
        JobqError(translating: error, doing: what)
    }

    /// The status code in the first element of a script reply.
    static func code(of reply: [RedisValue], script: String) throws(JobqError) -> ScriptCode {
        guard let raw = reply.first?.int, let code = ScriptCode(rawValue: raw) else {
            throw JobqError(.internalError, "script \(script) returned an unknown status \(String(describing: reply.first))")
        }
        return code
    }

    /// Refusal details that follow the status code, as strings.
    static func details(of reply: [RedisValue]) -> [String] {
        reply.dropFirst().map { $0.string ?? $0.int.map(String.init) ?? "" }
    }
}
