import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A redis client over hiredis that never blocks Swift's cooperative thread pool.
///
/// Normal commands go to one *main lane*: a thread the client owns with one connection. Whatever
/// callers have queued when the lane thread looks is sent as one pipeline (one write), so many
/// concurrent callers share round trips. Blocking commands (`BLPOP`…) go through
/// ``sendBlocking(_:blockTimeout:)`` to a pool of *blocking lanes*, one per concurrent blocking
/// call, so they never stall the main lane.
///
/// Connections are made lazily and remade transparently (AUTH and SELECT again) with bounded
/// exponential backoff. A command that may have reached the server before its connection broke
/// is never re-sent: it fails with `.outcomeUnknown` (or `.timeout`).
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let mainLane: Lane
    private let blockingLanes = Mutex(BlockingLanes())
    private let nextRequestID = Atomic<UInt64>(1)
    /// Set once the server refused `FCALL` or `FUNCTION LOAD` to this user (an ACL that grants
    /// `evalsha` only): ``callFunction(_:in:orScript:keys:args:)`` runs the script form from then on.
    let functionsRefused = Atomic<Bool>(false)

    private struct BlockingLanes {
        var idle: [Lane] = []
        var all: [ObjectIdentifier: Lane] = [:]
        var closed = false
        var created = 0
    }

    /// Creates the client and its main lane thread; does not connect yet.
    public init(configuration: RedisConfiguration) {
        ignoreSIGPIPE()
        self.configuration = configuration
        self.mainLane = Lane(role: .main, configuration: configuration, label: "jobq-redis")
    }

    deinit {
        mainLane.close(interruptInFlight: false)
        blockingLanes.withLock { lanes in
            for lane in lanes.all.values { lane.close(interruptInFlight: true) }
        }
    }

    /// Connects now (instead of at the first command) and checks that the server accepts us.
    ///
    /// - Throws: `.connectFailed` naming the endpoint (nothing listening there within the
    ///   reconnect window), `.authenticationFailed` (AUTH refused, or the server requires a
    ///   password none was configured for).
    public func connect() async throws {
        let reply = try await submit(RedisCommand("PING").encoded)
        if case .error(let error) = reply {
            if error.prefix == "NOAUTH" {
                throw RedisError(
                    code: .authenticationFailed,
                    message: "redis at \(configuration.endpoint) requires a password: \(error.message) — put it in the URL (redis://:password@host or unix:///path?password=…)",
                    serverError: error
                )
            }
            throw RedisError.server(error)
        }
    }

    /// Sends one command and returns its reply.
    ///
    /// - Throws: `RedisError(.server)` for an error reply (``RedisError/serverError`` holds it);
    ///   connection failures as described on ``RedisError/Code``.
    public func send(_ command: RedisCommand) async throws -> RedisValue {
        let reply = try await submit(command.encoded)
        if case .error(let error) = reply { throw RedisError.server(error) }
        return reply
    }

    /// Sends `name args…` and returns its reply.
    public func send(_ name: String, _ args: RedisArgument...) async throws -> RedisValue {
        try await send(RedisCommand(name, args))
    }

    /// Sends `commands` in one write and returns their replies in order.
    ///
    /// Error replies come back in place as `.error` elements; connection failures throw (and
    /// then, if the commands may have been sent, none of the replies is known).
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        if commands.isEmpty { return [] }
        let payload = RedisCommand.encode(commands)
        let count = commands.count
        return try await withUnsafeThrowingContinuation { continuation in
            mainLane.enqueue(LaneRequest(payload: payload, replyCount: count, completion: .multiple(continuation)))
        }
    }

    /// Sends a blocking command (`BLPOP`, `BLMOVE`, `BZPOPMIN`…) on a lane of its own.
    ///
    /// The read timeout is `blockTimeout + commandTimeout`; pass the same timeout the command
    /// itself carries (`.zero` for "block forever" disables the read timeout). Cancelling the
    /// calling task aborts the command: its connection is dropped and it throws
    /// `CancellationError`.
    public func sendBlocking(_ command: RedisCommand, blockTimeout: Duration) async throws -> RedisValue {
        let lane = try acquireBlockingLane()
        defer { releaseBlockingLane(lane) }
        let id = nextRequestID.add(1, ordering: .relaxed).newValue
        let readTimeout: Duration =
            blockTimeout == .zero || configuration.commandTimeout == .zero ? .zero : blockTimeout + configuration.commandTimeout
        let payload = command.encoded
        let reply = try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                lane.enqueue(LaneRequest(payload: payload, replyCount: 1, id: id, readTimeout: readTimeout, completion: .single(continuation)))
                if Task.isCancelled { lane.cancel(id: id) }
            }
        } onCancel: {
            lane.cancel(id: id)
        }
        if case .error(let error) = reply { throw RedisError.server(error) }
        return reply
    }

    /// Stops every lane thread and frees the connections. In-flight normal commands finish;
    /// in-flight blocking commands and anything still queued fail with `.clientClosed`, as does
    /// every later call.
    public func close() async {
        let lanes = blockingLanes.withLock { lanes in
            lanes.closed = true
            let all = Array(lanes.all.values)
            lanes.all = [:]
            lanes.idle = []
            return all
        }
        mainLane.close(interruptInFlight: false)
        for lane in lanes { lane.close(interruptInFlight: true) }
        await mainLane.waitUntilExited()
        for lane in lanes { await lane.waitUntilExited() }
    }

    // MARK: Internals

    /// Queues one encoded command on the main lane; returns its reply, error replies included.
    func submit(_ payload: [UInt8]) async throws -> RedisValue {
        try await withUnsafeThrowingContinuation { continuation in
            mainLane.enqueue(LaneRequest(payload: payload, replyCount: 1, completion: .single(continuation)))
        }
    }

    private func acquireBlockingLane() throws -> Lane {
        let configuration = configuration
        return try blockingLanes.withLock { lanes throws -> Lane in
            if lanes.closed { throw RedisError.closed }
            if let lane = lanes.idle.popLast() { return lane }
            lanes.created += 1
            let lane = Lane(role: .blocking, configuration: configuration, label: "jobq-redis-b\(lanes.created)")
            lanes.all[ObjectIdentifier(lane)] = lane
            return lane
        }
    }

    private func releaseBlockingLane(_ lane: Lane) {
        blockingLanes.withLock { lanes in
            if !lanes.closed { lanes.idle.append(lane) }
        }
    }
}

/// A write to a socket whose peer has gone raises SIGPIPE, which kills the process by default;
/// the client wants EPIPE instead. Done once per process.
private let sigpipeIgnored: Bool = {
    signal(SIGPIPE, SIG_IGN)
    return true
}()

private func ignoreSIGPIPE() {
    _ = sigpipeIgnored
}
