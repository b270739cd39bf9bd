import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobq
import JobqCore
import JobqTestSupport
import Testing

@testable import JobqDashboard

/// The queues page's queue latency, the workers page's stuck flags, the runs page's queue and
/// time filters, and the actor of every action in the event stream.
@Suite("Dashboard: latency, stuck workers, run filters, actors", .enabled(if: RedisServerFixture.shouldRun))
struct DashboardGapsTests {
    func withDashboard(options: Dashboard.Options = Dashboard.Options(), _ body: @escaping @Sendable (JobqClient, any TestClientProtocol) async throws -> Void) async throws {
        try await withDashboardRouter(options: options) { client, _, http in try await body(client, http) }
    }

    @Test func queuesShowTheAgeOfTheirOldestTask() async throws {
        try await withDashboard { client, http in
            _ = try await client.submit(TaskSpec(id: "old", handler: "h", queue: "slow"))
            _ = try await client.submit(TaskSpec(id: "ran", handler: "h", queue: "empty"))
            for (id, tenant) in [("a1", "a"), ("a2", "a"), ("b1", "b")] {
                var keyed = TaskSpec(id: id, handler: "h", queue: "shared")
                keyed.fairKey = "tenant-" + tenant
                _ = try await client.submit(keyed)
            }
            _ = try await client.engine.leases.claim(queues: ["empty"], count: 1, lease: .seconds(60), worker: "w")
            try await Task.sleep(for: .milliseconds(300))
            try await http.execute(uri: "/api/v1/queues", method: .get) { response in
                let queues = try #require(try jsonObject(response)["queues"] as? [[String: Any]])
                let slow = try #require(queues.first { $0["name"] as? String == "slow" })
                let age = try #require(slow["oldest_age_ms"] as? Int, "\(slow)")
                #expect(age >= 300 && age < 60_000, "\(age)")
                let empty = try #require(queues.first { $0["name"] as? String == "empty" })
                #expect(empty["oldest_age_ms"] is NSNull, "no task waits: \(empty)")
            }
            // the same figure as the metrics' queue latency: one computation
            let snapshot = try await client.engine.inspector.snapshot()
            let latency = try #require(snapshot.queues.first { $0.name == "slow" }?.oldestAge)
            let listed = try #require(try await client.queues().first { $0.name == "slow" }?.oldestAge)
            #expect(abs(latency - listed) < 5, "\(latency) vs \(listed)")
            try await http.execute(uri: "/queues", method: .get) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("<th>oldest</th>") || html.contains(">oldest<"), "\(html)")
                #expect(html.contains("<td class=\"num oldest\">-</td>"), "the empty queue shows no age")
                #expect(html.contains(">fair keys</th>") && html.contains("<td class=\"num fair\">2</td>"), "the shared queue's two tenants: \(html)")
            }
        }
    }

    @Test func silentAndOverdueWorkersAreFlagged() async throws {
        try await withDashboard { client, http in
            _ = try await client.submit(TaskSpec(id: "slowpoke", handler: "h", timeout: .milliseconds(200)))
            let claimed = try await client.engine.leases.claim(queues: ["default"], count: 1, lease: .seconds(60), worker: "busy")
            #expect(claimed.map(\.id) == ["slowpoke"])
            // a worker beating every 10 s that runs a task past its 200 ms timeout, and one that
            // said it beats every 50 ms and has not since
            try await client.engine.leases.register(worker: WorkerInfo(id: "busy", host: "h1", pid: 1, queues: ["default"], concurrency: 1, running: ["slowpoke"], heartbeatMilliseconds: 10_000), ttl: .seconds(60))
            try await client.engine.leases.register(worker: WorkerInfo(id: "quiet", host: "h2", pid: 2, queues: ["default"], concurrency: 1, running: [], heartbeatMilliseconds: 50), ttl: .seconds(60))
            try await Task.sleep(for: .milliseconds(400))
            try await client.engine.leases.register(worker: WorkerInfo(id: "fine", host: "h3", pid: 3, queues: ["default"], concurrency: 1, running: [], heartbeatMilliseconds: 10_000), ttl: .seconds(60))
            try await http.execute(uri: "/api/v1/workers", method: .get) { response in
                let workers = try #require(try jsonObject(response)["workers"] as? [[String: Any]])
                func worker(_ id: String) throws -> [String: Any] { try #require(workers.first { $0["id"] as? String == id }, "\(workers)") }
                let busy = try worker("busy"), quiet = try worker("quiet"), fine = try worker("fine")
                #expect(busy["overdue"] as? [String] == ["slowpoke"] && busy["silent"] as? Bool == false && busy["stuck"] as? Bool == true, "\(busy)")
                #expect(quiet["silent"] as? Bool == true && quiet["stuck"] as? Bool == true && quiet["heartbeat_ms"] as? Int == 50, "\(quiet)")
                #expect(fine["stuck"] as? Bool == false && (fine["overdue"] as? [String])?.isEmpty == true, "\(fine)")
            }
            try await http.execute(uri: "/workers", method: .get) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("data-worker=\"busy\" data-stuck=\"true\"") && html.contains("data-worker=\"quiet\" data-stuck=\"true\""), "\(html)")
                #expect(!html.contains("data-worker=\"fine\" data-stuck"))
                #expect(html.contains(">overdue</span>") && html.contains(">silent</span>"))
            }
        }
    }

    /// A parent waiting for the children it spawned: its page says so as `jobq status` does,
    /// linked to their run; a service task says it is one.
    @Test func aTaskPageShowsItsChildrenAndWhetherItIsAService() async throws {
        try await withDashboard { client, http in
            _ = try await client.submit(TaskSpec(id: "p", handler: "h", queue: "parents"))
            let parent = try #require(try await client.engine.leases.claim(queues: ["parents"], count: 1, lease: .seconds(30), worker: "w").first)
            let children = (0..<3).map { TaskSpec(id: "c\($0)", handler: "h") }
            var (specs, options) = try ChildRunRequest(definition: "kids", tasks: children).submission(id: ChildRunRequest.childRunID(parent: "p", key: "children"))
            options.spawnedBy = SpawnFence(parent: parent.lease, policy: .failParent, width: specs.count)
            _ = try await client.engine.tasks.submit(specs, run: options)
            #expect(try await client.engine.leases.fail([Failure(lease: parent.lease, mode: .children, reason: "waiting_children", message: "")]) == [.waiting])
            try await http.execute(uri: "/tasks/p", method: .get) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("waiting for 3 children of run p.children (0 done)"), "\(html)")
                #expect(html.contains("href=\"/runs/p.children\""))
            }
            var flow = Workflow("svc")
            let service = try flow.add("watch", handler: "h")
            try flow.markService(service)
            try flow.add("work", handler: "h")
            let run = try await client.submit(flow)
            try await http.execute(uri: "/tasks/\(run.id)/watch", method: .get) { response in
                #expect(String(buffer: response.body).contains("started with its run, stopped when the rest of it has ended"))
            }
        }
    }

    @Test func runsFilterByQueueAndTime() async throws {
        try await withDashboard { client, http in
            _ = try await client.submit([TaskSpec(id: "a", handler: "h", queue: "q1")], run: RunOptions(id: "early", definition: "d"))
            try await Task.sleep(for: .milliseconds(50))
            let between = try await client.serverTime()
            try await Task.sleep(for: .milliseconds(50))
            _ = try await client.submit([TaskSpec(id: "a", handler: "h", queue: "q2"), TaskSpec(id: "b", handler: "h", queue: "q1")], run: RunOptions(id: "late", definition: "d"))
            func runs(_ query: String) async throws -> [String] {
                try await http.execute(uri: "/api/v1/runs" + query, method: .get) { response in
                    #expect(response.status == .ok, "\(query): \(String(buffer: response.body))")
                    return (try jsonObject(response)["runs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                }
            }
            #expect(try await runs("") == ["late", "early"])
            #expect(try await runs("?queue=q1") == ["late", "early"])
            #expect(try await runs("?queue=q2") == ["late"])
            #expect(try await runs("?queue=q3").isEmpty)
            #expect(try await runs("?since=\(between)") == ["late"])
            #expect(try await runs("?until=\(between)") == ["early"])
            #expect(try await runs("?since=1h&queue=q2") == ["late"])
            #expect(try await runs("?since=\(DurationText.iso8601(milliseconds: between))") == ["late"])
            #expect(try await runs("?until=\(between)&limit=1&state=pending") == ["early"])
            // the filters stay in the page's form and its next link
            try await http.execute(uri: "/runs?queue=q1&since=1h&limit=1", method: .get) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("name=\"queue\" value=\"q1\"") && html.contains("name=\"since\" placeholder=\"1h, 2026-05-01T12:00:00Z\" value=\"1h\""), "\(html)")
                #expect(html.contains("queue=q1&amp;since=1h&amp;after=") || html.contains("queue=q1&since=1h&after="), "\(html)")
            }
            // bad values: 400 invalid_option, in the page and the API
            for query in ["?since=yesterday", "?until=12:00", "?queue=bad%20name", "?since=\(between + 1000)&until=\(between)"] {
                try await http.execute(uri: "/api/v1/runs" + query, method: .get) { response in
                    #expect(response.status == .badRequest, "\(query)")
                    let error = try #require(try jsonObject(response)["error"] as? [String: Any])
                    #expect(error["code"] as? String == "invalid_option", "\(query): \(error)")
                }
                try await http.execute(uri: "/runs" + query, method: .get) { #expect($0.status == .badRequest, "\(query)") }
            }
        }
    }

    @Test func everyActionRecordsItsActor() async throws {
        try await withDashboard { client, http in
            _ = try await client.submit([TaskSpec(id: "a", handler: "h"), TaskSpec(id: "b", handler: "h", prerequisites: [Prerequisite("a")])], run: RunOptions(id: "r", definition: "d"))
            _ = try await client.submit(TaskSpec(id: "solo", handler: "h", queue: "other"))
            let start = try #require(try await client.events(from: "-", to: "+", count: 1000).last, "the submissions wrote events")
            for (action, form) in [("cancel-task", "id=r/a"), ("retry-task", "id=r/a"), ("cancel-run", "run=r"), ("retry-run", "run=r"),
                                   ("pause-queue", "queue=other"), ("resume-queue", "queue=other"), ("signal", "id=solo&name=go")] {
                try await http.execute(uri: "/api/v1/actions/" + action, method: .post, body: ByteBuffer(string: form)) { response in
                    #expect(response.status == .ok, "\(action): \(String(buffer: response.body))")
                }
            }
            let (records, _) = try await client.events(from: "(" + start, to: "+", count: 1000)
            // the router test client has no remote address
            #expect(!records.isEmpty && records.allSatisfy { $0.actor == "dashboard@unknown" }, "\(records.map { "\($0.task) \($0.reason) \($0.actor ?? "-")" })")
            let reasons = Set(records.map(\.reason))
            #expect(reasons.isSuperset(of: ["cancelled", "paused", "resumed", "signal_kept"]), "\(reasons)")
            #expect(records.contains { $0.pausedQueue == "other" && $0.reason == "paused" })
            let json = try #require(records.first { $0.pausedQueue != nil }?.json)
            #expect(json.rendered().contains(#""queue":"other""#) && json.rendered().contains(#""by":"dashboard@unknown""#), "\(json.rendered())")
        }
    }

    @Test func anAuthenticatedActorIsItsUserAtItsAddress() async throws {
        try await withDashboard(options: Dashboard.Options(auth: .basic(user: "ops", password: "pw"))) { client, http in
            _ = try await client.submit(TaskSpec(id: "t", handler: "h"))
            let headers: HTTPFields = [.authorization: "Basic " + Data("ops:pw".utf8).base64EncodedString()]
            try await http.execute(uri: "/api/v1/actions/cancel-task", method: .post, headers: headers, body: ByteBuffer(string: "id=t")) { #expect($0.status == .ok) }
            let (records, _) = try await client.events(from: "-", to: "+", count: 100)
            #expect(records.last { $0.task == "t" }?.actor == "ops@unknown")
            #expect(try await client.status("t").error == "cancelled by ops@unknown from the dashboard")
        }
    }
}
