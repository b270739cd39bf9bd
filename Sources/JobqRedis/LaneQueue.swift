/// What a request needs to offer the lane's queue: an id (nonzero for requests that can be
/// cancelled while in flight) and its payload size (to tell, after a partial write, which
/// requests may have reached the server).
protocol LaneQueueItem {
    var id: UInt64 { get }
    var payloadSize: Int { get }
}

/// A lane's queue decisions as a value type without I/O: accepting and waking, taking a batch,
/// spinning or parking, cancelling, closing, and which requests of a batch count as sent after
/// a failed write. ``Lane`` keeps it inside a `Mutex` and performs the action each method
/// returns (unpark the thread, fail a request, shut a socket down) outside the lock — the shape
/// of valkey-swift's connection state machines.
struct LaneQueue<Request: LaneQueueItem> {
    /// Whether the lane holds one blocking command at a time, whose in-flight requests can be
    /// cancelled (by shutting the socket down).
    let cancellableInFlight: Bool
    private(set) var queue: [Request] = []
    /// The lane thread is (about to be) asleep: the next enqueuer must wake it.
    private(set) var parked = false
    private(set) var closing = false
    /// The socket of the live connection, -1 if none (set and cleared by the lane thread).
    var fd: Int32 = -1
    /// Ids of the batch being processed (cancellable lanes only).
    private(set) var inFlight: [UInt64] = []
    /// Why an in-flight request's socket was shut down from another thread.
    private(set) var interrupt: Interrupt?

    enum Interrupt: Sendable, Equatable {
        case closed
        case cancelled
    }

    init(cancellableInFlight: Bool) {
        self.cancellableInFlight = cancellableInFlight
    }

    // MARK: Callers

    enum EnqueueAction: Equatable {
        /// Queued; `wake`: unpark the lane thread.
        case queued(wake: Bool)
        /// The lane is closing: fail the request with `.clientClosed`.
        case rejected
    }

    mutating func enqueue(_ request: Request) -> EnqueueAction {
        guard !closing else { return .rejected }
        queue.append(request)
        guard parked else { return .queued(wake: false) }
        parked = false
        return .queued(wake: true)
    }

    enum CancelAction {
        /// It was still queued: fail it with `CancellationError`.
        case failQueued(Request)
        /// It is in flight: shut this socket down so the blocking read returns.
        case shutDown(Int32)
        /// In flight but not connected yet (the interrupt is picked up before sending), or
        /// unknown (already answered).
        case nothing
    }

    mutating func cancel(id: UInt64) -> CancelAction {
        if let index = queue.firstIndex(where: { $0.id == id }) {
            return .failQueued(queue.remove(at: index))
        }
        guard inFlight.contains(id) else { return .nothing }
        interrupt = .cancelled
        return fd >= 0 ? .shutDown(fd) : .nothing
    }

    /// Stops accepting; with `interruptInFlight`, an in-flight request is interrupted too.
    /// Returns a socket to shut down, if any. The caller then wakes the lane thread.
    mutating func close(interruptInFlight: Bool) -> Int32? {
        closing = true
        guard interruptInFlight, !inFlight.isEmpty else { return nil }
        interrupt = .closed
        return fd >= 0 ? fd : nil
    }

    // MARK: The lane thread

    enum Step: Equatable {
        /// `batch` holds the work.
        case work
        /// Closing: `batch` holds what was still queued, to fail.
        case closing
        /// Nothing queued: poll again (yield the core first).
        case spin
        /// Nothing queued: sleep until an enqueuer wakes the thread.
        case park
    }

    /// Moves everything queued into `batch` (empty on entry). `mayStillSpin`: the idle spin
    /// window is still open.
    mutating func take(into batch: inout [Request], mayStillSpin: Bool) -> Step {
        if !queue.isEmpty {
            swap(&queue, &batch)
            if cancellableInFlight { inFlight = batch.map(\.id) }
            return closing ? .closing : .work
        }
        if closing { return .closing }
        if mayStillSpin { return .spin }
        parked = true
        return .park
    }

    /// The batch is answered: nothing is in flight any more.
    mutating func batchFinished() {
        guard cancellableInFlight else { return }
        inFlight.removeAll()
        interrupt = nil
    }

    mutating func takeInterrupt() -> Interrupt? {
        defer { interrupt = nil }
        return interrupt
    }

    /// After a write that failed with `written` bytes of `batch[start...]` sent: the index of
    /// the first request that certainly did not leave (it and the rest go again on a new
    /// connection). Every request before it may have reached the server, so it fails as
    /// possibly applied. An interrupt fails them all.
    static func firstUnsent(_ batch: ArraySlice<Request>, written: Int, interrupted: Bool) -> Int {
        guard !interrupted else { return batch.endIndex }
        var offset = 0
        for index in batch.indices {
            if offset >= written { return index }
            offset += batch[index].payloadSize
        }
        return batch.endIndex
    }
}
