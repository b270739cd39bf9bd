import HTTPTypes
import Hummingbird
import Jobq
import JobqCore

extension Dashboard {
    /// The live parts: `GET /events` (Server-Sent Events from the ``EventHub``), `GET
    /// /runs/RUN/graph` (the run's DAG section alone, fetched again when the run grows) and `GET
    /// /assets/dashboard.js` (the one script, which only enhances the server-rendered pages).
    package func addLiveRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        let hub = hub
        let client = client
        group.get("events") { request, _ -> Response in
            try await Self.events(request: request, hub: hub)
        }
        group.get("runs/:run/graph") { request, context -> Response in
            let run = try context.parameters.require("run")
            do {
                return Self.html(try await RunGraphSection.html(client: client, run: run, query: Self.query(of: request)))
            } catch let error as JobqError where error.code == .notFound || error.code == .invalidName {
                throw HTTPError(error.code == .notFound ? .notFound : .badRequest, message: error.message)
            }
        }
        group.get("assets/dashboard.js") { _, _ -> Response in
            var headers: HTTPFields = [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=300"]
            headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardScript.source)))
        }
    }

    /// The `?key=value` pairs of a request (the last of a repeated key).
    static func query(of request: Request) -> [String: String] {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        return query
    }

    static func html(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// `GET /events[?run=RUN][&task=ID][&queue=Q][&after=STREAM_ID]`: the transitions as they
    /// happen. `Last-Event-ID` (sent by a reconnecting EventSource) or `after` (for a page to
    /// follow on from the moment it was rendered) replays what came after that id first.
    static func events(request: Request, hub: EventHub) async throws -> Response {
        let query = query(of: request)
        let filter: EventFilter
        do {
            filter = try EventFilter(run: query["run"], task: query["task"], queue: query["queue"])
        } catch {
            throw HTTPError(.badRequest, message: error.message)
        }
        let resume = request.headers[.lastEventID] ?? query["after"]
        let after = resume.flatMap(EventStreamID.init)
        // An id that is not a stream id cannot be resumed from: start over (resync).
        let unreadable = resume != nil && !(resume ?? "").isEmpty && after == nil
        let (subscription, backlog, gap) = try await hub.subscribe(filter: filter, after: after)
        let maxAge = hub.settings.maxStreamAge
        let headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8",
            .cacheControl: "no-cache",
            // nginx and friends: do not buffer the stream.
            HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer { subscription.cancel() }
            try await writer.write(ByteBuffer(string: LiveFeed.opening))
            if gap || unreadable {
                try await writer.write(ByteBuffer(string: LiveFeed.resync))
                try await writer.finish(nil)
                return
            }
            var feed = LiveFeed(filter: filter, after: after)
            let replay = feed.text(for: backlog.records, queues: backlog.queues)
            if !replay.isEmpty { try await writer.write(ByteBuffer(string: replay)) }
            let started = ContinuousClock.now
            for await message in subscription.messages {
                let text: String
                switch message {
                case .batch(let batch): text = feed.text(for: batch.records, queues: batch.queues)
                case .heartbeat: text = LiveFeed.heartbeat
                }
                if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                if let maxAge, ContinuousClock.now - started >= maxAge { break }
            }
            if subscription.overflowed { try await writer.write(ByteBuffer(string: LiveFeed.resync)) }
            try await writer.finish(nil)
        })
    }
}

extension HTTPField.Name {
    /// What a reconnecting EventSource sends: the id of the last event it received.
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}
