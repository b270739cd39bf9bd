import CHiredis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One hiredis connection in blocking mode. Not `Sendable`: it is created, used and freed on the
/// thread of the lane that owns it, and nowhere else.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    let endpoint: RedisConfiguration.Endpoint
    private(set) var readTimeout: Duration

    /// The socket, for `poll` and (from the lane's state) `shutdown` on interrupt.
    var fd: Int32 { context.pointee.fd }

    private init(context: UnsafeMutablePointer<redisContext>, endpoint: RedisConfiguration.Endpoint, readTimeout: Duration) {
        self.context = context
        self.endpoint = endpoint
        self.readTimeout = readTimeout
    }

    deinit { redisFree(context) }

    /// Connects, sets the read timeout (and TCP keepalive), then AUTH and SELECT as configured.
    ///
    /// - Throws: `.connectFailed` (worth retrying), `.authenticationFailed` (not worth retrying).
    static func open(_ configuration: RedisConfiguration, readTimeout: Duration) throws(RedisError) -> RedisConnection {
        let endpoint = configuration.endpoint
        let connectTimeout = configuration.connectTimeout.timeval
        let raw: UnsafeMutablePointer<redisContext>?
        switch endpoint {
        case .tcp(let host, let port):
            raw = redisConnectWithTimeout(host, Int32(clamping: port), connectTimeout)
        case .unix(let path):
            raw = redisConnectUnixWithTimeout(path, connectTimeout)
        }
        guard let raw else {
            throw RedisError(code: .connectFailed, message: "cannot connect to redis at \(endpoint): out of memory")
        }
        let connection = RedisConnection(context: raw, endpoint: endpoint, readTimeout: readTimeout)
        if raw.pointee.err != 0 {
            throw RedisError(
                code: .connectFailed,
                message: "cannot connect to redis at \(endpoint): \(connection.errorText) — is redis-server running there? set --redis / JOBQ_REDIS_URL"
            )
        }
        if redisSetTimeout(raw, readTimeout.timeval) != REDIS_OK {
            throw RedisError(code: .connectFailed, message: "cannot set the read timeout on \(endpoint): \(connection.errorText)")
        }
        if case .tcp = endpoint, redisKeepAlive(raw, 15) != REDIS_OK {
            throw RedisError(code: .connectFailed, message: "cannot enable TCP keepalive on \(endpoint): \(connection.errorText)")
        }
        try connection.handshake(configuration)
        return connection
    }

    /// AUTH and SELECT, pipelined in one round trip.
    private func handshake(_ configuration: RedisConfiguration) throws(RedisError) {
        var commands: [RedisCommand] = []
        if let username = configuration.username, configuration.password == nil {
            throw RedisError(
                code: .authenticationFailed,
                message: "redis user \"\(username)\" has no password: give it with a password file or the environment (JOBQ_REDIS_PASSWORD), never on the command line"
            )
        }
        if let password = configuration.password {
            if let username = configuration.username {
                commands.append(RedisCommand("AUTH", [RedisArgument(username), RedisArgument(password)]))
            } else {
                commands.append(RedisCommand("AUTH", [RedisArgument(password)]))
            }
        }
        if configuration.database != 0 {
            commands.append(RedisCommand("SELECT", [RedisArgument(configuration.database)]))
        }
        if commands.isEmpty { return }

        func broken(_ what: String) -> RedisError {
            RedisError(code: .connectFailed, message: "connection to redis at \(endpoint) broke during \(what): \(errorText)")
        }
        guard append(RedisCommand.encode(commands)) else { throw broken("AUTH/SELECT") }
        if flush() != nil { throw broken("AUTH/SELECT") }
        for command in commands {
            let reply: RedisValue
            switch readReply() {
            case .value(let value): reply = value
            case .failure: throw broken(command.name)
            }
            guard case .error(let serverError) = reply else { continue }
            if command.name == "AUTH" {
                let who = configuration.username.map { "user \"\($0)\"" } ?? "the default user"
                throw RedisError(
                    code: .authenticationFailed,
                    message: "redis at \(endpoint) refused AUTH for \(who): \(serverError.message)",
                    serverError: serverError
                )
            } else {
                throw RedisError(
                    code: .connectFailed,
                    message: "redis at \(endpoint) refused SELECT \(configuration.database): \(serverError.message) — check the database number in --redis / JOBQ_REDIS_URL",
                    serverError: serverError
                )
            }
        }
    }

    /// hiredis's text for the context's error.
    var errorText: String { String(cString: jobq_redis_errstr(context)) }

    /// Changes the socket read/write timeout (`.zero`: none).
    func setReadTimeout(_ timeout: Duration) -> Bool {
        if timeout == readTimeout { return true }
        readTimeout = timeout
        return redisSetTimeout(context, timeout.timeval) == REDIS_OK
    }

    /// True if the idle socket is readable: with no reply outstanding that means the peer closed
    /// it (EOF) or sent something we did not ask for; either way the connection is unusable.
    func isReadableWhileIdle() -> Bool {
        var pfd = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, 0) != 0
    }

    /// Copies formatted RESP into hiredis's output buffer. False only when out of memory.
    func append(_ payload: [UInt8]) -> Bool {
        payload.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                redisAppendFormattedCommand(context, chars.baseAddress, chars.count) == REDIS_OK
            }
        }
    }

    /// Bytes appended but not yet written.
    var pendingOutput: Int { Int(jobq_redis_obuf_len(context)) }

    /// Writes the whole output buffer. Returns nil on success, else the failure.
    func flush() -> IOFailure? {
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(context, &done) != REDIS_OK {
                return IOFailure(errno: jobq_errno(), context: context)
            }
        }
        return nil
    }

    enum ReadOutcome {
        case value(RedisValue)
        case failure(IOFailure)
    }

    /// Reads the next reply (blocking up to the read timeout) and frees hiredis's reply object.
    ///
    /// - Parameter spin: if no reply is buffered yet, poll the socket for up to this long before
    ///   blocking in `read`: a reply that arrives within it costs no thread wake-up.
    func readReply(spin: Duration = .zero) -> ReadOutcome {
        var raw: UnsafeMutableRawPointer?
        if spin > .zero {
            if redisGetReplyFromReader(context, &raw) != REDIS_OK {
                return .failure(IOFailure(errno: jobq_errno(), context: context))
            }
            if raw == nil { waitReadable(upTo: spin) }
        }
        if raw == nil, redisGetReply(context, &raw) != REDIS_OK {
            return .failure(IOFailure(errno: jobq_errno(), context: context))
        }
        guard let raw else {
            return .failure(IOFailure(kind: .protocolError, text: "hiredis returned no reply"))
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        let value = RedisConnection.convert(reply)
        freeReplyObject(raw)
        return .value(value)
    }

    /// Polls the socket without sleeping until it is readable or `duration` has passed.
    private func waitReadable(upTo duration: Duration) {
        var pfd = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        let deadline = ContinuousClock.now + duration
        repeat {
            if poll(&pfd, 1, 0) != 0 { return }
            sched_yield()  // let redis-server run if it shares this core
        } while ContinuousClock.now < deadline
    }

    /// Converts hiredis's reply tree into Swift values (copies every byte).
    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(Array(UnsafeRawBufferPointer(start: r.str, count: r.len)))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(r.integer))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var elements: [RedisValue] = []
            elements.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let element = r.element[i] {
                    elements.append(convert(element))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        case REDIS_REPLY_ERROR:
            return .error(RedisServerError(message: String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self)))
        default:
            return .error(RedisServerError(message: "PROTOCOL unknown hiredis reply type \(r.type)"))
        }
    }
}

@available(*, unavailable)
extension RedisConnection: Sendable {}

/// Why a socket read or write failed, captured right after the failing hiredis call.
struct IOFailure: Sendable, Equatable {
    enum Kind: Sendable {
        case timeout
        case closed
        case io
        case protocolError
    }

    let kind: Kind
    let text: String

    init(kind: Kind, text: String) {
        self.kind = kind
        self.text = text
    }

    init(errno savedErrno: Int32, context: UnsafeMutablePointer<redisContext>) {
        let text = String(cString: jobq_redis_errstr(context))
        switch context.pointee.err {
        case REDIS_ERR_EOF:
            self.init(kind: .closed, text: text)
        case REDIS_ERR_PROTOCOL:
            self.init(kind: .protocolError, text: text)
        case REDIS_ERR_IO where savedErrno == EAGAIN || savedErrno == EWOULDBLOCK:
            self.init(kind: .timeout, text: text)
        default:
            self.init(kind: .io, text: text)
        }
    }
}

extension Duration {
    /// As a `timeval` for hiredis (negative durations become zero).
    var timeval: timeval {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) {
            return .init(tv_sec: 0, tv_usec: 0)
        }
        var micros = attoseconds / 1_000_000_000_000
        if seconds == 0 && micros == 0 { micros = 1 }  // sub-microsecond: not "no timeout"
        return .init(tv_sec: .init(seconds), tv_usec: .init(micros))
    }
}
