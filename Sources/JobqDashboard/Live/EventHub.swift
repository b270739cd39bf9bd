import Jobq
import JobqCore
import Logging
import ServiceLifecycle
import Synchronization

/// The dashboard's one reader of the transition stream, fanned out to every browser tab.
///
/// One `XREAD BLOCK` loop per dashboard process (on the client's blocking lane, never the
/// cooperative pool) reads what the scripts append to `jobq:{ns}:events` and hands each batch to
/// every ``LiveSubscription``: the Redis cost is one blocked connection per dashboard, whatever
/// the number of tabs. A tab that reads slower than transitions arrive does not hold the loop
/// back: its buffer is bounded (``Settings/buffer`` batches), and when it is full the tab is
/// dropped with a `resync` (the page reloads and starts over from a fresh render).
///
/// A reconnecting tab (`Last-Event-ID`) is given the entries after its id from Redis (XRANGE,
/// at most ``Settings/resumeEntries``), then the live ones; an id older than what the capped
/// stream still holds, or a gap larger than that bound, is a `resync`.
///
/// Run it as a `Service` beside the HTTP server (`ServiceGroup`); it ends on graceful shutdown
/// and then ends every subscription.
package final class EventHub: Service, Sendable {
    package struct Settings: Sendable {
        /// How often every open stream gets a comment line, so proxies and browsers keep an
        /// idle connection open and a dead one is noticed.
        package var heartbeat: Duration = .seconds(15)
        /// How long one `XREAD BLOCK` waits before it is made again (a quiet stream costs one
        /// command per `block`).
        package var block: Duration = .seconds(5)
        /// Batches a subscriber may have waiting before it is dropped with a `resync`.
        package var buffer = 512
        /// The most stream entries (each up to 50 transitions) a reconnecting subscriber is
        /// replayed; a larger gap is a `resync`.
        package var resumeEntries = 2_000
        /// How long one `/events` response lasts before the server ends it (`nil`: forever). The
        /// browser reconnects on its own with `Last-Event-ID`, missing nothing; ending streams
        /// now and then spreads tabs over the dashboard processes behind a load balancer.
        package var maxStreamAge: Duration? = .seconds(1800)

        package init() {}
    }

    let client: JobqClient
    package let settings: Settings
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var subscribers: [Int: Subscriber] = [:]
        var nextID = 0
        /// Subscribers that filter by queue: while any exists, the loop reads the queues of the
        /// tasks in each batch (once per batch for all of them).
        var queueFiltered = 0
        var finished = false
        /// The loop knows its starting position: every entry appended from now on reaches the
        /// subscribers.
        var reading = false
    }

    private struct Subscriber {
        let continuation: AsyncStream<LiveMessage>.Continuation
        let subscription: LiveSubscription
        let wantsQueues: Bool
    }

    package convenience init(client: JobqClient) {
        self.init(client: client, settings: Settings())
    }

    package init(client: JobqClient, settings: Settings, logger: Logger = Logger(label: "jobq.dashboard.events")) {
        self.client = client
        self.settings = settings
        self.logger = logger
    }

    /// How many tabs are subscribed now.
    package var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// How many subscriptions were ever made (a subscription may end before anyone sees it
    /// counted in ``subscriberCount``).
    package var subscriptionsMade: Int { state.withLock { $0.nextID } }

    /// Whether the loop has started following the stream (entries appended from now on reach
    /// every subscriber).
    package var isReading: Bool { state.withLock { $0.reading } }

    /// Reads the stream and beats the heartbeat until cancelled or shut down gracefully.
    /// Ending it ends every open stream, so a server shutting down is not held by them: in a
    /// `ServiceGroup`, list the hub *after* the HTTP server (services stop in reverse order).
    package func run() async throws {
        defer { finishAll() }
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await self.readLoop() }
                    group.addTask { try await self.heartbeatLoop() }
                }
            }
        } catch is CancellationError {
            // Shut down or cancelled: a normal end.
        }
    }

    // MARK: Subscribing

    /// A new subscription for `filter`. With `lastEventID` (a stream id the subscriber saw
    /// last), the entries after it are read from Redis first and returned as `backlog`, or
    /// `resync` is true when they cannot all be given.
    package func subscribe(filter: EventFilter, after lastEventID: EventStreamID?) async throws(JobqError) -> (subscription: LiveSubscription, backlog: LiveBatch, resync: Bool) {
        // Registered first, so nothing appended while the backlog is read is missed; the
        // subscriber skips live entries the backlog already held.
        let subscription = register(wantsQueues: filter.queue != nil)
        guard let lastEventID else { return (subscription, LiveBatch(records: [], queues: [:]), false) }
        do {
            let (backlog, complete) = try await replay(after: lastEventID, filter: filter)
            return (subscription, backlog, !complete)
        } catch {
            subscription.cancel()
            throw error
        }
    }

    /// The matching transitions after `id`, and whether they are all there (nothing after `id`
    /// was trimmed from the stream, and the gap is within ``Settings/resumeEntries``).
    private func replay(after id: EventStreamID, filter: EventFilter) async throws(JobqError) -> (LiveBatch, Bool) {
        // An empty stream has nothing to replay (and XINFO would not find it).
        guard try await client.lastEventID() != "0-0" else { return (LiveBatch(records: [], queues: [:]), true) }
        // Entries after `id` removed (the stream is capped): they cannot be replayed. (XINFO
        // refused, by an ACL from before it was listed: only the oldest entry kept is checked.)
        var removed: (count: Int?, newestDeleted: String?, oldestKept: String?)
        if let read = try? await client.engine.inspector.eventsRemoved() {
            removed = read
        } else {
            removed = (nil, nil, try await client.events(from: "-", to: "+", count: 1).last)
        }
        if removed.count != 0 {
            if let oldest = removed.oldestKept.flatMap({ EventStreamID($0) }), id < oldest { return (LiveBatch(records: [], queues: [:]), false) }
            if let deleted = removed.newestDeleted.flatMap({ EventStreamID($0) }), id < deleted { return (LiveBatch(records: [], queues: [:]), false) }
        }
        var queues = TaskQueueCache()
        var found = LiveBatch(records: [], queues: [:])
        var cursor = "(" + id.description
        // Pages of 200 entries, at most resumeEntries in all.
        for _ in 0..<max(1, settings.resumeEntries / 200) {
            let (records, last) = try await client.events(from: cursor, to: "+", count: 200)
            guard let last else { return (found, true) }
            if filter.queue != nil { try await queues.learn(records, client: client) }
            for record in records where filter.matches(record, queue: queues[record.task]) {
                found.records.append(record)
                if let queue = queues[record.task] { found.queues[record.task] = queue }
            }
            cursor = "(" + last
        }
        // The bound is reached: complete only if nothing follows.
        let more = try await client.events(from: cursor, to: "+", count: 1).last
        return (found, more == nil)
    }

    private func register(wantsQueues: Bool) -> LiveSubscription {
        let (stream, continuation) = AsyncStream.makeStream(of: LiveMessage.self, bufferingPolicy: .bufferingOldest(settings.buffer))
        return state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            let subscription = LiveSubscription(id: id, messages: stream, hub: self)
            if state.finished {
                continuation.finish()
                return subscription
            }
            state.subscribers[id] = Subscriber(continuation: continuation, subscription: subscription, wantsQueues: wantsQueues)
            if wantsQueues { state.queueFiltered += 1 }
            continuation.onTermination = { [weak self] _ in self?.remove(id) }
            return subscription
        }
    }

    func remove(_ id: Int) {
        let removed = state.withLock { state in
            let subscriber = state.subscribers.removeValue(forKey: id)
            if subscriber?.wantsQueues == true { state.queueFiltered -= 1 }
            return subscriber
        }
        removed?.continuation.finish()
    }

    // MARK: The loop

    private func readLoop() async throws {
        var position = try await retrying("read the stream's position") { () throws(JobqError) in try await self.client.lastEventID() }
        state.withLock { $0.reading = true }
        var queues = TaskQueueCache()
        while !Task.isCancelled {
            let from = position
            let (records, next) = try await retrying("read events") { () throws(JobqError) in
                try await self.client.events(after: from, block: self.settings.block)
            }
            position = next
            guard !records.isEmpty else { continue }
            if state.withLock({ $0.queueFiltered > 0 }) {
                do {
                    try await queues.learn(records, client: client)
                } catch {
                    logger.warning("dashboard live feed: cannot read task queues: \(error)")
                }
            }
            let taskQueues = Dictionary(records.compactMap { record in queues[record.task].map { (record.task, $0) } }) { first, _ in first }
            broadcast(.batch(LiveBatch(records: records, queues: taskQueues)))
        }
    }

    private func heartbeatLoop() async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: settings.heartbeat)
            broadcast(.heartbeat)
        }
    }

    /// Hands `message` to every subscriber; one whose buffer is full is dropped with a resync
    /// (its stream ends and ``LiveSubscription/overflowed`` is set), never waited for.
    private func broadcast(_ message: LiveMessage) {
        let dropped: [Subscriber] = state.withLock { state in
            var dropped: [Subscriber] = []
            for (id, subscriber) in state.subscribers {
                if case .dropped = subscriber.continuation.yield(message) {
                    subscriber.subscription.markOverflowed()
                    state.subscribers[id] = nil
                    if subscriber.wantsQueues { state.queueFiltered -= 1 }
                    dropped.append(subscriber)
                }
            }
            return dropped
        }
        for subscriber in dropped { subscriber.continuation.finish() }
    }

    private func finishAll() {
        let all = state.withLock { state in
            state.finished = true
            defer { state.subscribers = [:]; state.queueFiltered = 0 }
            return Array(state.subscribers.values)
        }
        for subscriber in all { subscriber.continuation.finish() }
    }

    /// Runs `operation` until it succeeds: a dashboard outlives a Redis restart, so a failed
    /// read is logged and made again after a growing pause (up to 5 s). Cancellation ends it.
    private func retrying<T>(_ what: String, _ operation: () async throws(JobqError) -> T) async throws -> T {
        var pause = Duration.milliseconds(100)
        while true {
            do {
                return try await operation()
            } catch {
                if Task.isCancelled || error.code == .cancelled { throw CancellationError() }
                logger.warning("dashboard live feed: cannot \(what): \(error.message); trying again in \(pause)")
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(5))
            }
        }
    }
}

/// What the hub hands a subscriber.
package enum LiveMessage: Sendable {
    /// The transitions of one XREAD, oldest first, with the queues of their tasks when some
    /// subscriber filters by queue.
    case batch(LiveBatch)
    /// Time for a heartbeat comment.
    case heartbeat
}

/// One read of the stream: its records (each carrying its entry id) and what the hub knows of
/// their tasks' queues.
package struct LiveBatch: Sendable {
    package var records: [TaskEventRecord]
    package var queues: [String: String]
}

/// One tab's view of the hub: its messages, and whether it was dropped for falling behind.
package final class LiveSubscription: Sendable {
    let id: Int
    package let messages: AsyncStream<LiveMessage>
    private let hub: EventHub
    private let dropped = Atomic(false)

    init(id: Int, messages: AsyncStream<LiveMessage>, hub: EventHub) {
        self.id = id
        self.messages = messages
        self.hub = hub
    }

    /// Whether the hub dropped this subscriber because its buffer was full: once ``messages``
    /// ends, send a `resync`.
    package var overflowed: Bool { dropped.load(ordering: .acquiring) }

    func markOverflowed() { dropped.store(true, ordering: .releasing) }

    /// Leaves the hub (the tab went away).
    package func cancel() { hub.remove(id) }
}
