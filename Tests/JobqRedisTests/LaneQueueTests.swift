import Testing

@testable import JobqRedis

/// The lane's queue decisions (``LaneQueue``), without threads or sockets: when an enqueuer
/// wakes the lane thread, what a batch holds, how cancellation and closing reach queued and
/// in-flight requests, and which requests of a half-written batch count as sent.
@Suite("Lane queue decisions")
struct LaneQueueTests {
    struct Item: LaneQueueItem, Equatable {
        var id: UInt64
        var payloadSize: Int
    }

    private func item(_ id: UInt64, size: Int = 10) -> Item { Item(id: id, payloadSize: size) }

    @Test func anEnqueuerWakesAParkedLaneOnce() {
        var queue = LaneQueue<Item>(cancellableInFlight: false)
        #expect(queue.enqueue(item(1)) == .queued(wake: false), "the thread is not asleep")
        var batch: [Item] = []
        #expect(queue.take(into: &batch, mayStillSpin: false) == .work)
        #expect(batch == [item(1)])
        batch.removeAll()
        #expect(queue.take(into: &batch, mayStillSpin: true) == .spin, "idle, spin window open")
        #expect(!queue.parked)
        #expect(queue.take(into: &batch, mayStillSpin: false) == .park)
        #expect(queue.parked)
        #expect(queue.enqueue(item(2)) == .queued(wake: true))
        #expect(queue.enqueue(item(3)) == .queued(wake: false), "one wake-up is enough")
        #expect(queue.take(into: &batch, mayStillSpin: false) == .work)
        #expect(batch == [item(2), item(3)], "everything queued, in order, as one batch")
        #expect(queue.queue.isEmpty)
    }

    @Test func closingRejectsNewRequestsAndHandsBackTheQueuedOnes() {
        var queue = LaneQueue<Item>(cancellableInFlight: false)
        _ = queue.enqueue(item(1))
        #expect(queue.close(interruptInFlight: true) == nil, "nothing in flight")
        #expect(queue.enqueue(item(2)) == .rejected)
        var batch: [Item] = []
        #expect(queue.take(into: &batch, mayStillSpin: true) == .closing)
        #expect(batch == [item(1)], "to be failed with clientClosed")
        batch.removeAll()
        #expect(queue.take(into: &batch, mayStillSpin: true) == .closing)
        #expect(batch.isEmpty)
    }

    @Test func cancellingAQueuedRequestRemovesItAndAnInFlightOneShutsTheSocket() {
        var queue = LaneQueue<Item>(cancellableInFlight: true)
        _ = queue.enqueue(item(7))
        _ = queue.enqueue(item(8))
        guard case .failQueued(let removed) = queue.cancel(id: 7) else {
            Issue.record("a queued request was not removed")
            return
        }
        #expect(removed == item(7))
        var batch: [Item] = []
        #expect(queue.take(into: &batch, mayStillSpin: false) == .work)
        #expect(queue.inFlight == [8])
        // In flight before the connection exists: the interrupt waits to be picked up.
        guard case .nothing = queue.cancel(id: 8) else {
            Issue.record("no socket to shut down yet")
            return
        }
        #expect(queue.takeInterrupt() == .cancelled)
        #expect(queue.takeInterrupt() == nil, "taken once")
        queue.fd = 42
        guard case .shutDown(let fd) = queue.cancel(id: 8) else {
            Issue.record("an in-flight request's socket was not shut down")
            return
        }
        #expect(fd == 42)
        queue.batchFinished()
        #expect(queue.inFlight.isEmpty && queue.interrupt == nil)
        guard case .nothing = queue.cancel(id: 8) else {
            Issue.record("a finished request cannot be cancelled")
            return
        }
    }

    @Test func closeInterruptsAnInFlightBlockingRequest() {
        var queue = LaneQueue<Item>(cancellableInFlight: true)
        _ = queue.enqueue(item(1))
        var batch: [Item] = []
        _ = queue.take(into: &batch, mayStillSpin: false)
        queue.fd = 5
        #expect(queue.close(interruptInFlight: false) == nil, "a plain close lets it finish")
        #expect(queue.close(interruptInFlight: true) == 5)
        #expect(queue.takeInterrupt() == .closed)
    }

    @Test func aMainLaneTracksNothingInFlight() {
        var queue = LaneQueue<Item>(cancellableInFlight: false)
        _ = queue.enqueue(item(3))
        var batch: [Item] = []
        _ = queue.take(into: &batch, mayStillSpin: false)
        #expect(queue.inFlight.isEmpty)
        guard case .nothing = queue.cancel(id: 3) else {
            Issue.record("main-lane requests are not cancellable in flight")
            return
        }
    }

    @Test func afterAPartialWriteOnlyRequestsWhoseFirstByteMayHaveLeftCountAsSent() {
        let batch = [item(1, size: 10), item(2, size: 20), item(3, size: 30)]
        let slice = batch[...]
        #expect(LaneQueue.firstUnsent(slice, written: 0, interrupted: false) == 0, "nothing left: all resent")
        #expect(LaneQueue.firstUnsent(slice, written: 1, interrupted: false) == 1)
        #expect(LaneQueue.firstUnsent(slice, written: 10, interrupted: false) == 1, "the second had not started")
        #expect(LaneQueue.firstUnsent(slice, written: 11, interrupted: false) == 2)
        #expect(LaneQueue.firstUnsent(slice, written: 60, interrupted: false) == 3)
        #expect(LaneQueue.firstUnsent(slice, written: 0, interrupted: true) == 3, "an interrupt fails them all")
        // A retry starts mid-batch: indices stay those of the batch.
        #expect(LaneQueue.firstUnsent(batch[1...], written: 25, interrupted: false) == 3)
        #expect(LaneQueue.firstUnsent(batch[1...], written: 0, interrupted: false) == 1)
    }
}
