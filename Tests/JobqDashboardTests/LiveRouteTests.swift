import Foundation
import Hummingbird
import HummingbirdTesting
import Jobq
import JobqCore
import JobqRedis
import JobqTestSupport
import Testing
@testable import JobqDashboard

/// `/events`, `/runs/RUN/graph` and `/assets/dashboard.js` in a tiny router, against a real
/// redis-server and a running ``EventHub``; transitions are made by real submit, claim,
/// complete and fail scripts.
@Suite("live routes", .enabled(if: RedisServerFixture.shouldRun))
struct LiveRouteTests {
    /// One server-sent event (or a bare `id:` block, `event` nil and `data` nil).
    struct SentEvent: Equatable {
        var event: String?
        var id: String?
        var data: String?
        var json: [String: Any]? { data.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } }
        static func == (a: SentEvent, b: SentEvent) -> Bool { a.event == b.event && a.id == b.id && a.data == b.data }
    }

    /// The events of an SSE body (comments dropped).
    static func parse(_ body: String) -> [SentEvent] {
        body.components(separatedBy: "\n\n").compactMap { block in
            var event = SentEvent()
            var any = false
            for line in block.split(separator: "\n") where !line.hasPrefix(":") {
                let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                let value = parts[1].hasPrefix(" ") ? String(parts[1].dropFirst()) : parts[1]
                switch parts[0] {
                case "event": event.event = value
                case "id": event.id = value
                case "data": event.data = value
                default: continue
                }
                any = true
            }
            return any && (event.event != nil || event.id != nil) ? event : nil
        }
    }

    /// "task to" per transition event, in order.
    static func transitions(_ events: [SentEvent]) -> [String] {
        events.filter { $0.event == "transition" }.compactMap(\.json).map { json in
            "\((json["task"] as? String) ?? "@" + ((json["run"] as? String) ?? "?")) \((json["to"] as? String) ?? "?")"
        }
    }

    struct Live {
        let client: JobqClient
        let hub: EventHub
        let redis: RedisClient
        let app: Application<RouterResponder<BasicRequestContext>>
    }

    /// Streams end `maxAge` after they start, at the next heartbeat: a short one for tests.
    static func settings(heartbeat: Duration = .milliseconds(100), maxAge: Duration = .seconds(3), buffer: Int = 512) -> EventHub.Settings {
        var settings = EventHub.Settings()
        settings.heartbeat = heartbeat
        settings.block = .milliseconds(200)
        settings.maxStreamAge = maxAge
        settings.buffer = buffer
        return settings
    }

    /// A client on a fresh namespace, a running hub and a router with the live routes.
    static func withLive(_ settings: EventHub.Settings = settings(), _ body: (Live) async throws -> Void) async throws {
        let server = try await RedisServerFixture.shared()
        let redis = server.makeClient()
        let client = JobqClient(engine: try Coordinator(redis: redis, namespace: RedisServerFixture.uniqueNamespace()))
        let hub = EventHub(client: client, settings: settings)
        let running = Task { try await hub.run() }
        let router = Router()
        Dashboard(client: client, hub: hub).addLiveRoutes(to: router.group())
        let live = Live(client: client, hub: hub, redis: redis, app: Application(router: router))
        do {
            try await waitFor { hub.isReading }
            try await body(live)
        } catch {
            running.cancel()
            await redis.close()
            throw error
        }
        running.cancel()
        _ = await running.result
        await redis.close()
    }

    static func waitFor(_ what: String = "condition", _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw JobqError(.timeout, "waited 10s for \(what)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Claims the next task of `queue` and completes (or fails, for good) it.
    static func work(_ client: JobqClient, queue: String = "default", fail: Bool = false) async throws {
        let task = try #require(try await client.engine.leases.claim(queues: [queue], count: 1, lease: .seconds(30), worker: "test").first)
        if fail {
            _ = try await client.engine.leases.fail([Failure(lease: task.lease, mode: .final, reason: "error", message: "boom")])
        } else {
            _ = try await client.engine.leases.complete([Completion(lease: task.lease, result: Array("1".utf8))])
        }
    }

    /// GETs `uri` while `during` runs once the stream is subscribed; the whole body (the stream
    /// ends after the hub's `maxStreamAge`).
    static func stream(_ live: Live, _ uri: String, headers: HTTPFields = [:], during: @escaping @Sendable () async throws -> Void = {}) async throws -> String {
        try await live.app.test(.router) { client in
            let made = live.hub.subscriptionsMade
            async let body = client.execute(uri: uri, method: .get, headers: headers) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/event-stream; charset=utf-8")
                return String(buffer: response.body)
            }
            try await waitFor("the subscription") { live.hub.subscriptionsMade > made }
            try await during()
            return try await body
        }
    }

    @Test func aTransitionReachesTheStream() async throws {
        try await Self.withLive { live in
            let body = try await Self.stream(live, "/events") {
                _ = try await live.client.submit(TaskSpec(id: "live-1", handler: "noop"))
                try await Self.work(live.client)
            }
            #expect(body.hasPrefix("retry: 2000\n"))
            let events = Self.parse(body)
            #expect(Self.transitions(events) == ["live-1 PENDING", "live-1 RUNNING", "live-1 DONE"])
            let first = try #require(events.first { $0.event == "transition" }?.json)
            #expect(first["from"] is NSNull && first["stream_id"] is String && first["run"] is NSNull)
            // Event ids are the stream ids, increasing.
            let ids = events.compactMap(\.id).compactMap(EventStreamID.init)
            #expect(ids.count == 3 && ids == ids.sorted())
            #expect(ids.last?.description == (try await live.client.lastEventID()))
            #expect(live.hub.subscriberCount == 0)
        }
    }

    @Test func lastEventIDReplaysExactlyWhatWasMissed() async throws {
        try await Self.withLive(Self.settings(maxAge: .milliseconds(300))) { live in
            _ = try await live.client.submit(TaskSpec(id: "seen", handler: "noop"))
            let seen = try await live.client.lastEventID()
            _ = try await live.client.submit(TaskSpec(id: "missed-1", handler: "noop"))
            try await Self.work(live.client)
            _ = try await live.client.submit(TaskSpec(id: "missed-2", handler: "noop"))
            // The claim takes the oldest task: `seen`.
            let expected = ["missed-1 PENDING", "seen RUNNING", "seen DONE", "missed-2 PENDING"]
            let resumed = try await Self.stream(live, "/events", headers: [.lastEventID: seen])
            #expect(Self.transitions(Self.parse(resumed)) == expected)
            // `after=` (a page's render position) does the same; the header wins over it.
            let after = try await Self.stream(live, "/events?after=" + seen)
            #expect(Self.transitions(Self.parse(after)) == expected)
            let both = try await Self.stream(live, "/events?after=0-1", headers: [.lastEventID: seen])
            #expect(Self.transitions(Self.parse(both)) == expected)
            // Replay and live overlap: nothing twice.
            let overlap = try await Self.stream(live, "/events", headers: [.lastEventID: seen]) {
                _ = try await live.client.submit(TaskSpec(id: "live-after", handler: "noop"))
            }
            #expect(Self.transitions(Self.parse(overlap)) == expected + ["live-after PENDING"])
        }
    }

    @Test func anIDTheStreamNoLongerHoldsIsAResync() async throws {
        try await Self.withLive(Self.settings(maxAge: .milliseconds(300))) { live in
            _ = try await live.client.submit(TaskSpec(id: "old", handler: "noop"))
            let old = try await live.client.lastEventID()
            for i in 0..<5 { _ = try await live.client.submit(TaskSpec(id: "new-\(i)", handler: "noop")) }
            _ = try await live.redis.send("XTRIM", RedisArgument(live.client.engine.keys.events), "MAXLEN", "2")
            let body = try await Self.stream(live, "/events", headers: [.lastEventID: old])
            let events = Self.parse(body)
            #expect(events.map(\.event) == ["resync"])
            // Not a stream id at all: the same.
            let garbage = try await Self.stream(live, "/events", headers: [.lastEventID: "yesterday"])
            #expect(Self.parse(garbage).map(\.event) == ["resync"])
            // The newest id it holds resumes with nothing to replay.
            let newest = try await live.client.lastEventID()
            #expect(Self.parse(try await Self.stream(live, "/events", headers: [.lastEventID: newest])).isEmpty)
        }
    }

    @Test func filtersByRunTaskAndQueue() async throws {
        try await Self.withLive(Self.settings(maxAge: .milliseconds(300))) { live in
            let start = try await live.client.lastEventID()
            _ = try await live.client.submit([TaskSpec(id: "a", handler: "noop", queue: "q1"), TaskSpec(id: "b", handler: "noop", queue: "q1", prerequisites: [Prerequisite("a")])], run: RunOptions(id: "r1", definition: "d"))
            _ = try await live.client.submit([TaskSpec(id: "a", handler: "noop", queue: "q2")], run: RunOptions(id: "r2", definition: "d"))
            _ = try await live.client.submit(TaskSpec(id: "solo", handler: "noop", queue: "q2"))
            let resume: HTTPFields = [.lastEventID: start]
            let run = Self.transitions(Self.parse(try await Self.stream(live, "/events?run=r1", headers: resume)))
            #expect(run.contains("r1/a PENDING") && run.contains("r1/b PENDING"))
            #expect(run.allSatisfy { $0.hasPrefix("r1/") || $0.hasPrefix("@r1 ") })
            let task = Self.transitions(Self.parse(try await Self.stream(live, "/events?task=r1/b", headers: resume)))
            #expect(task == ["r1/b PENDING"])
            let queueBody = try await Self.stream(live, "/events?queue=q2", headers: resume)
            let queue = Self.transitions(Self.parse(queueBody))
            #expect(queue == ["r2/a PENDING", "solo PENDING"])
            // Live, through the hub's shared queue lookups: q1's tasks are mine, r1/a and r1/b.
            let liveQueue = Self.transitions(Self.parse(try await Self.stream(live, "/events?queue=q1") {
                _ = try await live.client.submit(TaskSpec(id: "other", handler: "noop", queue: "q2"))
                _ = try await live.client.submit(TaskSpec(id: "mine", handler: "noop", queue: "q1"))
                try await Self.work(live.client, queue: "q1")
            }))
            #expect(liveQueue.contains("mine PENDING") && liveQueue.count >= 3)
            #expect(liveQueue.allSatisfy { $0.hasPrefix("mine ") || $0.hasPrefix("r1/") })
            // A bad name is refused before anything is streamed.
            try await live.app.test(.router) { client in
                try await client.execute(uri: "/events?run=no%20spaces", method: .get) { response in
                    #expect(response.status == .badRequest)
                }
            }
        }
    }

    @Test func idleStreamsGetHeartbeatsAndEnd() async throws {
        try await Self.withLive(Self.settings(heartbeat: .milliseconds(50), maxAge: .milliseconds(400))) { live in
            let body = try await Self.stream(live, "/events")
            #expect(body.components(separatedBy: ": heartbeat\n\n").count - 1 >= 2)
            #expect(Self.parse(body).isEmpty)
        }
    }

    @Test func aSubscriberThatFallsBehindIsDroppedNotWaitedFor() async throws {
        try await Self.withLive(Self.settings(heartbeat: .seconds(60), buffer: 2)) { live in
            let filter = try EventFilter(run: nil, task: nil, queue: nil)
            let slow = try await live.hub.subscribe(filter: filter, after: nil).subscription
            let reader = try await live.hub.subscribe(filter: filter, after: nil).subscription
            // Several XREAD batches: each submit is read before the next is made.
            for i in 0..<5 {
                let before = try await live.client.lastEventID()
                _ = try await live.client.submit(TaskSpec(id: "burst-\(i)", handler: "noop"))
                var seen = false
                for await message in reader.messages {
                    if case .batch(let batch) = message, batch.records.contains(where: { $0.entryID != before && $0.task == "burst-\(i)" }) { seen = true; break }
                }
                #expect(seen)
            }
            // The slow one kept what fitted, was dropped, and says so; the loop never waited.
            var kept = 0
            for await _ in slow.messages { kept += 1 }
            #expect(kept == 2 && slow.overflowed)
            #expect(!reader.overflowed && live.hub.subscriberCount == 1)
            reader.cancel()
            #expect(live.hub.subscriberCount == 0)
        }
    }

    @Test func theGraphRouteAndTheScript() async throws {
        try await Self.withLive { live in
            _ = try await live.client.submit([
                TaskSpec(id: "fetch", handler: "noop"), TaskSpec(id: "parse", handler: "noop", prerequisites: [Prerequisite("fetch")]),
                TaskSpec(id: "store", handler: "noop", prerequisites: [Prerequisite("parse")]),
            ], run: RunOptions(id: "g1", definition: "d"))
            try await Self.work(live.client, fail: true)
            try await live.app.test(.router) { client in
                try await client.execute(uri: "/runs/g1/graph", method: .get) { response in
                    #expect(response.status == .ok)
                    let html = String(buffer: response.body)
                    #expect(html.contains(#"<g class="node state-FAILED" data-task="g1/fetch" data-state="FAILED" tabindex="0""#))
                    #expect(html.contains(#"data-task="g1/parse" data-state="CANCELLED""#) && html.contains(#"data-task="g1/store" data-state="CANCELLED""#))
                    #expect(html.components(separatedBy: #"class="failed-path""#).count - 1 == 2)
                }
                try await client.execute(uri: "/runs/g1/graph?focus=parse&dir=down", method: .get) { response in
                    let html = String(buffer: response.body)
                    #expect(!html.contains(#"data-task="g1/fetch""#) && html.contains(#"data-task="g1/store""#))
                }
                try await client.execute(uri: "/runs/nope/graph", method: .get) { response in
                    #expect(response.status == .notFound)
                }
                try await client.execute(uri: "/assets/dashboard.js", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                    #expect(String(buffer: response.body).contains("new EventSource(url)"))
                }
            }
        }
    }
}
