import JobqRedis

/// Runs script calls against one namespace: the one place where a ``ScriptCall`` meets Redis.
///
/// The roles (``TaskStore``, ``LeaseStore``, ``Maintenance``, ``Inspector``) are thin layers over
/// one runner; they share its connection, keyspace, clock and limits.
package struct ScriptRunner: Sendable {
    package let redis: RedisClient
    package let keys: Keyspace
    package let clock: JobqClock
    package let limits: Limits

    package init(redis: RedisClient, keys: Keyspace, clock: JobqClock, limits: Limits) {
        self.redis = redis
        self.keys = keys
        self.clock = clock
        self.limits = limits
    }

    /// Runs `call` with the namespace prefix as `KEYS[1]` and "now" as `ARGV[1]`, and decodes
    /// its whole reply.
    package func run<Call: ScriptCall>(_ call: Call) async throws(JobqError) -> Call.Reply {
        var reply = try ScriptReply(script: Call.script.name, value: try await evaluate(Call.script, call.arguments))
        let decoded = try call.decode(&reply)
        try reply.end()
        return decoded
    }

    /// The raw reply of `script` (its function in ``Scripts/library``) with `arguments` as
    /// `ARGV[2...]`, undecoded: for tests that
    /// send what no call type would (a script must refuse bad arguments on its own too).
    package func evaluate(_ script: RedisScript, _ arguments: [RedisArgument]) async throws(JobqError) -> RedisValue {
        do {
            return try await redis.callFunction(
                Scripts.function(script), in: Scripts.library, orScript: script,
                keys: [RedisArgument(keys.prefix)],
                args: [RedisArgument(Int(clock.scriptArgument))] + arguments
            )
        } catch {
            throw JobqError(translating: error, doing: script.name, isWrite: true)
        }
    }

    /// One plain command (a read, or an operational write that is not a task transition).
    package func send(_ command: RedisCommand, doing what: String, isWrite: Bool = false) async throws(JobqError) -> RedisValue {
        do {
            let reply = try await redis.send(command)
            try reply.throwIfError()
            return reply
        } catch {
            throw JobqError(translating: error, doing: what, isWrite: isWrite)
        }
    }

    /// Plain commands in one round trip; any error reply throws (a NOPERM is never read as "no
    /// such task").
    package func pipeline(_ commands: [RedisCommand], doing what: String) async throws(JobqError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        do {
            let replies = try await redis.pipeline(commands)
            for reply in replies { try reply.throwIfError() }
            return replies
        } catch {
            throw JobqError(translating: error, doing: what, isWrite: false)
        }
    }

    /// A blocking command on one of the client's blocking lanes (never the cooperative pool).
    package func sendBlocking(_ command: RedisCommand, timeout: Duration, doing what: String) async throws(JobqError) -> RedisValue {
        do {
            let reply = try await redis.sendBlocking(command, blockTimeout: timeout)
            try reply.throwIfError()
            return reply
        } catch {
            throw JobqError(translating: error, doing: what, isWrite: false)
        }
    }

    /// Redis server time in milliseconds (for ages that do not depend on the local clock).
    package func serverTime() async throws(JobqError) -> Int64 {
        Self.milliseconds(fromTime: try await send(RedisCommand("TIME"), doing: "read server time"))
    }

    /// "Now" as the scripts see it: the test clock when there is one, else Redis `TIME`. For
    /// decisions Swift makes on times the scripts store (a schedule's ticks).
    package func now() async throws(JobqError) -> Int64 {
        if let milliseconds = clock.milliseconds() { return milliseconds }
        return try await serverTime()
    }

    /// A `TIME` reply as milliseconds since the epoch.
    package static func milliseconds(fromTime reply: RedisValue) -> Int64 {
        let parts = reply.array ?? []
        let seconds = Int64(parts.first?.string ?? "") ?? 0
        let micros = Int64(parts.count > 1 ? parts[1].string ?? "" : "") ?? 0
        return seconds * 1000 + micros / 1000
    }

    /// A flat HGETALL reply as a dictionary.
    package static func hash(_ value: RedisValue) -> [String: [UInt8]] {
        guard let items = value.array else { return [:] }
        var fields: [String: [UInt8]] = [:]
        fields.reserveCapacity(items.count / 2)
        var index = 0
        while index + 1 < items.count {
            if let key = items[index].string { fields[key] = items[index + 1].bytes ?? [] }
            index += 2
        }
        return fields
    }
}
