import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One connection on one thread the client owns.
///
/// Callers (async code) append requests to the lane's queue and suspend; the lane thread takes
/// everything queued at that moment as one batch, appends it to hiredis's output buffer, flushes
/// once, reads the replies in order and resumes each caller with its own. The hiredis context
/// (``RedisConnection``) is a local of the lane thread and never leaves it, so no hiredis call
/// ever runs on Swift's cooperative pool.
final class Lane: Sendable {
    enum Role: Sendable {
        /// Normal commands, batched; idles by spinning briefly, then sleeping.
        case main
        /// One blocking command at a time (BLPOP…); in-flight requests can be cancelled.
        case blocking
    }

    private struct State {
        /// The queue decisions (pure; see ``LaneQueue``).
        var queue: LaneQueue<LaneRequest>
        var exited = false
        var exitWaiters: [UnsafeContinuation<Void, Never>] = []
    }

    let role: Role
    let configuration: RedisConfiguration
    private let state: Mutex<State>
    private let parker = ThreadParker()
    /// How long an idle lane keeps polling its queue before it sleeps: a caller that sends its
    /// next command right after its reply then skips a thread wake-up (~5–10 µs).
    private let spin: Duration
    /// How long the lane polls the socket for a reply before blocking in `read`: most replies
    /// come within tens of microseconds, and one caught by polling costs no thread wake-up.
    private let readSpin: Duration

    init(role: Role, configuration: RedisConfiguration, label: String) {
        self.role = role
        self.configuration = configuration
        self.spin = role == .main ? configuration.idleSpin : .zero
        self.readSpin = role == .main ? configuration.replySpin : .zero
        self.state = Mutex(State(queue: LaneQueue(cancellableInFlight: role == .blocking)))
        LaneThread.start(name: label) { [self] in self.run() }
    }

    // MARK: Caller side (any thread)

    /// Queues `request`; fails it with `.clientClosed` if the lane is closing.
    func enqueue(_ request: LaneRequest) {
        switch state.withLock({ $0.queue.enqueue(request) }) {
        case .rejected: request.fail(RedisError.closed)
        case .queued(let wake): if wake { parker.unpark() }
        }
    }

    /// Cancels request `id`: a queued one is removed and fails with `CancellationError`; an
    /// in-flight one has its socket shut down, so the lane thread's blocking read returns.
    func cancel(id: UInt64) {
        switch state.withLock({ $0.queue.cancel(id: id) }) {
        case .failQueued(let request): request.fail(CancellationError())
        case .shutDown(let fd): _ = shutdown(fd, Int32(SHUT_RDWR))
        case .nothing: break
        }
    }

    /// Stops the lane: queued requests fail with `.clientClosed`; with `interruptInFlight`, so
    /// does an in-flight blocking request (its socket is shut down). Does not wait.
    func close(interruptInFlight: Bool) {
        if let fd = state.withLock({ $0.queue.close(interruptInFlight: interruptInFlight) }) {
            _ = shutdown(fd, Int32(SHUT_RDWR))
        }
        parker.unpark()
    }

    /// Returns once the lane thread has freed its connection and exited.
    func waitUntilExited() async {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let exited = state.withLock { s in
                if s.exited { return true }
                s.exitWaiters.append(continuation)
                return false
            }
            if exited { continuation.resume() }
        }
    }

    // MARK: Lane thread

    private func run() {
        var connection: RedisConnection?
        var batch: [LaneRequest] = []
        batch.reserveCapacity(64)
        while takeWork(into: &batch) {
            process(&batch, connection: &connection)
            batch.removeAll(keepingCapacity: true)
            state.withLock { $0.queue.batchFinished() }
        }
        for request in batch { request.fail(RedisError.closed) }
        drop(&connection)
        let waiters = state.withLock { s in
            s.exited = true
            let waiters = s.exitWaiters
            s.exitWaiters = []
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Moves everything queued into `batch`, sleeping until there is something. False when
    /// closing (then `batch` holds what was still queued).
    private func takeWork(into batch: inout [LaneRequest]) -> Bool {
        let spinUntil = spin > .zero ? ContinuousClock.now + spin : nil
        while true {
            let mayStillSpin = spinUntil.map { ContinuousClock.now < $0 } ?? false
            switch state.withLock({ $0.queue.take(into: &batch, mayStillSpin: mayStillSpin) }) {
            case .work: return true
            case .closing: return false
            case .spin: sched_yield()  // let a caller sharing this core run
            case .park: parker.park()
            }
        }
    }

    /// Sends `batch` and resumes every request in it, reconnecting first if needed.
    private func process(_ batch: inout [LaneRequest], connection: inout RedisConnection?) {
        var start = 0  // first request not yet sent
        var failedWrites = 0
        let deadline = ContinuousClock.now + configuration.reconnectWindow
        while start < batch.count {
            // 1. A live connection: an idle socket that is readable was closed by the peer
            //    (e.g. redis-server restarted), so reconnect before sending rather than fail after.
            if let live = connection, live.isReadableWhileIdle() {
                drop(&connection)
            }
            if connection == nil {
                do throws(RedisError) {
                    connection = try connect(until: deadline)
                } catch {
                    fail(batch[start...], with: error)
                    return
                }
            }
            guard let live = connection else { return }
            if role == .blocking {
                if let interrupt = takeInterrupt() {
                    fail(batch[start...], with: interruptError(interrupt))
                    return
                }
                var timeout = Duration.zero
                for request in batch[start...] {
                    let t = request.readTimeout ?? configuration.commandTimeout
                    if t == .zero {
                        timeout = .zero
                        break
                    }
                    timeout = max(timeout, t)
                }
                if !live.setReadTimeout(timeout) {
                    drop(&connection)
                    failedWrites += 1
                    if failedWrites >= 3 {
                        fail(batch[start...], with: RedisError(code: .io, message: "cannot set the read timeout on \(configuration.endpoint)"))
                        return
                    }
                    continue
                }
            }

            // 2. Append everything, 3. flush once.
            var total = 0
            for request in batch[start...] {
                if !live.append(request.payload) {
                    fatalError("JobqRedis: out of memory appending to hiredis's output buffer")
                }
                total += request.payload.count
            }
            if let failure = live.flush() {
                // Requests whose first byte may have left are possibly applied; the rest were
                // not sent and go again on a new connection.
                let written = total - live.pendingOutput
                drop(&connection)
                let interrupt = role == .blocking ? takeInterrupt() : nil
                let firstUnsent = LaneQueue.firstUnsent(batch[start...], written: written, interrupted: interrupt != nil)
                fail(batch[start..<firstUnsent], with: interrupt.map(interruptError) ?? sentError(failure))
                start = firstUnsent
                failedWrites += 1
                if failedWrites >= 3 && start < batch.count {
                    fail(batch[start...], with: RedisError(
                        code: .io,
                        message: "cannot write to redis at \(configuration.endpoint) (\(failure.text)); nothing was sent — check the server's health and its logs"
                    ))
                    return
                }
                continue
            }

            // 4. Read the replies in order; resume each caller as soon as its replies are in.
            for index in start..<batch.count {
                let request = batch[index]
                switch request.completion {
                case .single(let continuation):
                    switch live.readReply(spin: readSpin) {
                    case .value(let value):
                        continuation.resume(returning: value)
                    case .failure(let failure):
                        failAfterSend(batch[index...], failure, connection: &connection)
                        return
                    }
                case .multiple(let continuation):
                    var values: [RedisValue] = []
                    values.reserveCapacity(request.replyCount)
                    for _ in 0..<request.replyCount {
                        switch live.readReply(spin: readSpin) {
                        case .value(let value):
                            values.append(value)
                        case .failure(let failure):
                            failAfterSend(batch[index...], failure, connection: &connection)
                            return
                        }
                    }
                    continuation.resume(returning: values)
                }
            }
            return
        }
    }

    /// Connects with bounded exponential backoff (10 ms doubling to 500 ms) until `deadline`.
    /// Refused AUTH or SELECT fail at once: retrying cannot fix them.
    private func connect(until deadline: ContinuousClock.Instant) throws(RedisError) -> RedisConnection {
        var backoff = Duration.milliseconds(10)
        var attempts = 0
        while true {
            if state.withLock({ $0.queue.closing }) { throw RedisError.closed }
            attempts += 1
            do throws(RedisError) {
                let connection = try RedisConnection.open(configuration, readTimeout: configuration.commandTimeout)
                let fd = connection.fd
                state.withLock { $0.queue.fd = fd }
                return connection
            } catch {
                if error.code != .connectFailed || error.serverError != nil { throw error }
                if ContinuousClock.now + backoff > deadline {
                    throw RedisError(
                        code: error.code,
                        message: "\(error.message) (gave up after \(attempts) attempt\(attempts == 1 ? "" : "s") within the reconnect window of \(configuration.reconnectWindow))"
                    )
                }
                parker.park(for: backoff)
                if state.withLock({ $0.queue.closing }) { throw RedisError.closed }
                backoff = min(backoff * 2, .milliseconds(500))
            }
        }
    }

    private func drop(_ connection: inout RedisConnection?) {
        guard connection != nil else { return }
        state.withLock { $0.queue.fd = -1 }
        connection = nil
    }

    private func takeInterrupt() -> LaneQueue<LaneRequest>.Interrupt? {
        state.withLock { $0.queue.takeInterrupt() }
    }

    private func fail(_ requests: ArraySlice<LaneRequest>, with error: any Error) {
        for request in requests { request.fail(error) }
    }

    /// The connection broke while replies were outstanding: drop it; every request still waiting
    /// was (possibly) applied, so it fails with `.timeout`/`.outcomeUnknown`, never a re-send.
    private func failAfterSend(_ requests: ArraySlice<LaneRequest>, _ failure: IOFailure, connection: inout RedisConnection?) {
        drop(&connection)
        let interrupt = role == .blocking ? takeInterrupt() : nil
        let error: any Error = interrupt.map(interruptError) ?? sentError(failure)
        fail(requests, with: error)
    }

    private func interruptError(_ interrupt: LaneQueue<LaneRequest>.Interrupt) -> any Error {
        switch interrupt {
        case .cancelled: return CancellationError()
        case .closed: return RedisError.closed
        }
    }

    /// The error for a request that was (possibly) sent when `failure` happened.
    private func sentError(_ failure: IOFailure) -> RedisError {
        let endpoint = configuration.endpoint
        switch failure.kind {
        case .timeout:
            return RedisError(
                code: .timeout,
                message: "no reply from redis at \(endpoint) within the read timeout; the connection was dropped and the command may or may not have run — raise commandTimeout, or look for slow commands with SLOWLOG GET"
            )
        case .protocolError:
            return RedisError(
                code: .protocolError,
                message: "redis at \(endpoint) sent an invalid reply (\(failure.text)); the connection was dropped and the command may or may not have run — is that really redis-server?"
            )
        case .closed, .io:
            return RedisError(
                code: .outcomeUnknown,
                message: "the connection to redis at \(endpoint) broke after the command was sent (\(failure.text)); it may or may not have run — retry only if it is safe to apply twice"
            )
        }
    }
}
