import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobq
import JobqCore
import JobqTestSupport
import Testing

@testable import JobqDashboard

/// Every page and API route against a real redis-server, through Hummingbird's router test
/// client: the HTML a browser gets (with JavaScript off), the JSON twins, and the guards.
@Suite("Dashboard routes", .enabled(if: RedisServerFixture.shouldRun))
struct DashboardTests {
    /// A namespace with a run `r1` of three tasks: `a` DONE, `b` (after a) PENDING, `c` RUNNING.
    func withFixture(options: Dashboard.Options = Dashboard.Options(), _ body: @escaping @Sendable (JobqClient, any TestClientProtocol) async throws -> Void) async throws {
        try await withSharedRedis { redis, namespace in
            let client = JobqClient(engine: try Coordinator(redis: redis, namespace: namespace))
            _ = try await client.submit([
                TaskSpec(id: "a", handler: "h.a", payload: Array(#"{"n":1}"#.utf8)),
                TaskSpec(id: "b", handler: "h.b", prerequisites: [Prerequisite("a")]),
                TaskSpec(id: "c", handler: "h.c", queue: "other"),
            ], run: RunOptions(id: "r1", definition: "nightly"))
            let claimed = try await client.engine.leases.claim(queues: ["default"], count: 1, lease: .seconds(60), worker: "w1")
            #expect(claimed.map(\.id) == ["r1/a"])
            _ = try await client.engine.leases.complete(claimed.map { Completion(lease: $0.lease, result: Array("42".utf8)) })
            _ = try await client.engine.leases.claim(queues: ["other"], count: 1, lease: .seconds(60), worker: "w1")
            let dashboard = Dashboard(client: client, options: options)
            let router = Router()
            dashboard.addRoutes(to: router)
            let app = Application(router: router)
            try await app.test(.router) { http in try await body(client, http) }
        }
    }

    static func text(_ response: TestResponse) -> String { String(buffer: response.body) }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text(response).utf8)) as? [String: Any], "not a JSON object: \(text(response))")
    }

    static let csp = "default-src 'self'"

    @Test func everyPageRendersWithItsSecurityHeaders() async throws {
        try await withFixture { _, http in
            let pages: [(String, [String])] = [
                ("/", ["data-count=\"DONE\"", "<svg class=\"chart\"", "data-live=\"/events\""]),
                ("/runs", ["r1", "nightly", "data-run=\"r1\""]),
                ("/runs/r1", ["id=\"run-summary\" data-run=\"r1\"", "<tr tabindex=\"0\" data-task=\"r1/a\" data-state=\"DONE\">", "<td class=\"state\">RUNNING</td>", "data-live=\"/events?run=r1\"", "Cancel run"]),
                ("/tasks/r1/a", ["{&quot;n&quot;:1}", "42", "Prerequisites", "data-task=\"r1/b\""]),
                ("/tasks/r1/c", ["Cancel", "RUNNING"]),
                ("/queues", ["other", "Pause"]),
                ("/workers", ["Workers"]),
                ("/schedules", ["no schedules"]),
                ("/limits", ["no concurrency key"]),
            ]
            for (path, needles) in pages {
                try await http.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path): \(response.status)")
                    #expect(response.headers[.contentSecurityPolicy]?.hasPrefix(Self.csp) == true, "\(path)")
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    let html = Self.text(response)
                    for needle in needles { #expect(html.contains(needle), "\(path) lacks \(needle)") }
                    // the CSP forbids inline script and style: the pages must not need any
                    #expect(!html.contains("<script>") && !html.contains(" style=") && !html.contains("<style"), "\(path)")
                    #expect(html.contains("<script src=\"/assets/dashboard.js\" defer>"))
                    #expect(html.contains("<link rel=\"stylesheet\" href=\"/assets/dashboard.css\">"))
                    #expect(html.contains("<a class=\"skip\" href=\"#main\">") && html.contains("<main id=\"main\" tabindex=\"-1\">"))
                }
            }
            try await http.execute(uri: "/assets/dashboard.css", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/css") == true)
                let css = Self.text(response)
                #expect(css.contains("prefers-color-scheme: dark"))
                #expect(css.contains(".node.state-FAILED rect"))
            }
        }
    }

    @Test func apiTwinsReturnTheCLIsJSON() async throws {
        try await withFixture { client, http in
            // the same shared types render the CLI's --json: the API's bytes are theirs
            let queues = OperatorJSON.queues(try await client.queues()).rendered() + "\n"
            try await http.execute(uri: "/api/v1/queues", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                // the same bytes but the queue latencies, which moved on between the two reads
                func aged(_ text: String) -> String { text.replacingOccurrences(of: #""oldest_age_ms":\d+"#, with: #""oldest_age_ms":N"#, options: .regularExpression) }
                #expect(aged(Self.text(response)) == aged(queues))
                #expect(Self.text(response).contains(#""oldest_age_ms":null"#), "the queue whose task runs has none waiting")
            }
            let info = try await client.status("r1/a")
            let detail = TaskJSON.detail(info, prerequisiteStates: [:], progress: [], history: try await client.attempts(of: "r1/a"))
            guard case .object(let expected) = detail else { Issue.record("not an object"); return }
            try await http.execute(uri: "/api/v1/tasks/r1/a", method: .get) { response in
                let object = try Self.json(response)
                for (key, _) in expected { #expect(object[key] != nil, "task API lacks \(key)") }
                #expect(object["state"] as? String == "DONE")
                #expect(object["result"] as? Int == 42)
                #expect((object["dependents"] as? [[String: Any]])?.first?["id"] as? String == "r1/b")
            }
            try await http.execute(uri: "/api/v1/runs/r1", method: .get) { response in
                let object = try Self.json(response)
                #expect((object["run"] as? [String: Any])?["definition"] as? String == "nightly")
                #expect((object["tasks"] as? [[String: Any]])?.map { $0["id"] as? String } == ["r1/a", "r1/b", "r1/c"])
                #expect(object["summary"] as? String == "1D + 1R + 1P")
            }
            try await http.execute(uri: "/api/v1/overview", method: .get) { response in
                let object = try Self.json(response)
                #expect((object["tasks"] as? [String: Any])?["done"] as? Int == 1)
                let rates = try #require(object["rates"] as? [String: Any])
                #expect((rates["done"] as? [Int])?.reduce(0, +) == 1, "the completion is counted in its minute")
                #expect((rates["done"] as? [Int])?.count == 24 * 60)
            }
            for path in ["/api/v1/workers", "/api/v1/schedules", "/api/v1/limits", "/api/v1/runs"] {
                try await http.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    _ = try Self.json(response)
                }
            }
        }
    }

    @Test func runsAreFilteredAndPagedInTheURL() async throws {
        try await withFixture { client, http in
            for index in 2...3 {
                _ = try await client.submit([TaskSpec(id: "x", handler: "h")], run: RunOptions(id: "r\(index)", definition: "other"))
            }
            let first = try await http.execute(uri: "/api/v1/runs?limit=2", method: .get) { try Self.json($0) }
            let ids = (first["runs"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            #expect(ids.count == 2)
            let cursor = try #require(first["next"] as? String)
            let second = try await http.execute(uri: "/api/v1/runs?limit=2&after=" + cursor, method: .get) { try Self.json($0) }
            let rest = (second["runs"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            #expect(Set(ids + rest) == ["r1", "r2", "r3"])
            let filtered = try await http.execute(uri: "/api/v1/runs?definition=nightly", method: .get) { try Self.json($0) }
            #expect((filtered["runs"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["r1"])
            let lookup = try await http.execute(uri: "/api/v1/runs?id=r2", method: .get) { try Self.json($0) }
            #expect((lookup["runs"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["r2"])
            try await http.execute(uri: "/api/v1/runs?state=bogus", method: .get) { response in
                #expect(response.status == .badRequest)
                let object = try Self.json(response)
                #expect((object["error"] as? [String: Any])?["code"] as? String == "invalid_option")
            }
            try await http.execute(uri: "/runs?limit=1", method: .get) { response in
                #expect(Self.text(response).contains("rel=\"next\""), "the HTML page links its next page")
            }
        }
    }

    @Test func aRunsTasksArePagedInSubmissionOrder() async throws {
        try await withFixture { client, http in
            let count = 1_100 // more than two pages of RunDetailPage.taskLimit (500)
            _ = try await client.submit((0..<count).map { TaskSpec(id: String(format: "t%04d", $0), handler: "h", queue: "idle") }, run: RunOptions(id: "big", definition: "big"))
            var seen: [String] = []
            var after: String? = nil
            repeat {
                let page = try await http.execute(uri: "/api/v1/runs/big" + (after.map { "?after=" + $0 } ?? ""), method: .get) { try Self.json($0) }
                seen += ((page["tasks"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
                after = page["next"] as? String
                #expect((page["more_tasks"] as? Bool) == (after != nil))
            } while after != nil && seen.count <= count
            #expect(seen == (0..<count).map { String(format: "big/t%04d", $0) }, "every task once, in order, across the pages")
            try await http.execute(uri: "/runs/big", method: .get) { response in
                #expect(Self.text(response).contains("rel=\"next\""), "the HTML page links its next page")
            }
            try await http.execute(uri: "/api/v1/runs/big?after=abc", method: .get) { response in
                #expect(response.status == .badRequest)
                let object = try Self.json(response)
                #expect((object["error"] as? [String: Any])?["code"] as? String == "invalid_option")
            }
        }
    }

    @Test func unknownThingsAreNotFound() async throws {
        try await withFixture { _, http in
            try await http.execute(uri: "/api/v1/runs/nope", method: .get) { response in
                #expect(response.status == .notFound)
                let object = try Self.json(response)
                #expect((object["error"] as? [String: Any])?["code"] as? String == "not_found")
            }
            try await http.execute(uri: "/tasks/r1/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(Self.text(response).contains("[not_found]"))
                #expect(response.headers[.contentSecurityPolicy] != nil)
            }
            try await http.execute(uri: "/api/v1/runs?id=nope", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func tokenAuthIsRequiredEverywhere() async throws {
        try await withFixture(options: Dashboard.Options(auth: .token("s3cret"))) { client, http in
            for path in ["/", "/api/v1/overview", "/assets/dashboard.css"] {
                try await http.execute(uri: path, method: .get) { response in
                    #expect(response.status == .unauthorized, "\(path)")
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
                    #expect(response.headers[.contentSecurityPolicy] != nil)
                }
            }
            try await http.execute(uri: "/", method: .get, headers: [.authorization: "Bearer wrong"]) { #expect($0.status == .unauthorized) }
            try await http.execute(uri: "/", method: .get, headers: [.authorization: "Bearer s3cret"]) { #expect($0.status == .ok) }
            let basic = "Basic " + Data("alice:s3cret".utf8).base64EncodedString()
            try await http.execute(uri: "/", method: .get, headers: [.authorization: basic]) { #expect($0.status == .ok) }
            // unauthenticated actions do nothing
            try await http.execute(uri: "/actions/pause-queue", method: .post, body: ByteBuffer(string: "queue=other")) { #expect($0.status == .unauthorized) }
            #expect(try await client.queues().first { $0.name == "other" }?.paused == false)
            // the basic user is the actor
            try await http.execute(uri: "/actions/cancel-task", method: .post, headers: [.authorization: basic], body: ByteBuffer(string: "id=r1%2Fb")) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/tasks/r1/b")
            }
            let cancelled = try await client.status("r1/b")
            #expect(cancelled.state == .cancelled)
            #expect(cancelled.error?.contains("alice") == true, "\(cancelled.error ?? "")")
        }
    }

    @Test func basicAuthChecksUserAndPassword() async throws {
        try await withFixture(options: Dashboard.Options(auth: DashboardAuth(line: "ops:pa:ss\n"))) { _, http in
            let good = "Basic " + Data("ops:pa:ss".utf8).base64EncodedString()
            let wrongUser = "Basic " + Data("eve:pa:ss".utf8).base64EncodedString()
            try await http.execute(uri: "/", method: .get, headers: [.authorization: good]) { #expect($0.status == .ok) }
            try await http.execute(uri: "/", method: .get, headers: [.authorization: wrongUser]) { #expect($0.status == .unauthorized) }
            try await http.execute(uri: "/", method: .get, headers: [.authorization: "Bearer pa:ss"]) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func readOnlyRefusesEveryAction() async throws {
        try await withFixture(options: Dashboard.Options(readOnly: true)) { client, http in
            for (path, body) in [("/actions/pause-queue", "queue=other"), ("/api/v1/actions/cancel-task", "id=r1%2Fc"), ("/actions/cancel-run", "run=r1&confirm=yes")] {
                try await http.execute(uri: path, method: .post, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .forbidden, "\(path)")
                    #expect(Self.text(response).contains("read_only"))
                }
            }
            #expect(try await client.queues().first { $0.name == "other" }?.paused == false)
            #expect(try await client.status("r1/c").state == .running)
            #expect(try await client.status("r1/c").cancelRequested == false)
            try await http.execute(uri: "/runs/r1", method: .get) { response in
                #expect(!Self.text(response).contains("<form method=\"post\""), "no action forms in read-only mode")
            }
        }
    }

    @Test func crossSiteActionsAreRefused() async throws {
        try await withFixture { client, http in
            try await http.execute(uri: "/actions/pause-queue", method: .post, headers: [.secFetchSite: "cross-site"], body: ByteBuffer(string: "queue=other")) { response in
                #expect(response.status == .forbidden)
                #expect(Self.text(response).contains("cross_origin"))
            }
            try await http.execute(uri: "/actions/pause-queue", method: .post, headers: [.origin: "http://evil.example"], body: ByteBuffer(string: "queue=other")) { response in
                #expect(response.status == .forbidden)
            }
            #expect(try await client.queues().first { $0.name == "other" }?.paused == false)
            try await http.execute(uri: "/actions/pause-queue", method: .post, headers: [.secFetchSite: "same-origin"], body: ByteBuffer(string: "queue=other")) { response in
                #expect(response.status == .seeOther)
            }
            #expect(try await client.queues().first { $0.name == "other" }?.paused == true)
            try await http.execute(uri: "/api/v1/actions/resume-queue", method: .post, body: ByteBuffer(string: "queue=other")) { response in
                #expect(response.status == .ok)
                let object = try Self.json(response)
                #expect(object["paused"] as? Bool == false)
            }
            #expect(try await client.queues().first { $0.name == "other" }?.paused == false)
            // GET never acts
            try await http.execute(uri: "/actions/pause-queue?queue=other", method: .get) { #expect($0.status != .ok && $0.status != .seeOther) }
        }
    }

    @Test func bulkActionsAskForConfirmationThenAct() async throws {
        try await withFixture { client, http in
            try await http.execute(uri: "/actions/cancel-run", method: .post, body: ByteBuffer(string: "run=r1")) { response in
                #expect(response.status == .ok)
                let html = Self.text(response)
                #expect(html.contains("name=\"confirm\" value=\"yes\""))
                #expect(html.contains("Cancel every unfinished task of run r1"))
            }
            #expect(try await client.status("r1/b").state == .pending, "nothing happens before the confirmation")
            try await http.execute(uri: "/actions/cancel-run", method: .post, body: ByteBuffer(string: "run=r1&confirm=yes")) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/runs/r1")
            }
            #expect(try await client.status("r1/b").state == .cancelled)
            #expect(try await client.status("r1/c").cancelRequested, "the running handler is told")
            // retry the run through the API: the cancelled task is re-opened
            try await http.execute(uri: "/api/v1/actions/retry-run", method: .post, body: ByteBuffer(string: "run=r1")) { response in
                #expect(response.status == .ok, "\(Self.text(response))")
                let object = try Self.json(response)
                #expect((object["retried"] as? [String])?.contains("r1/b") == true)
            }
            #expect(try await client.status("r1/b").state == .pending)
            // a missing field and an action on an unknown task are refused with their codes
            try await http.execute(uri: "/api/v1/actions/retry-task", method: .post, body: ByteBuffer(string: "")) { response in
                #expect(response.status == .badRequest)
            }
            try await http.execute(uri: "/api/v1/actions/signal", method: .post, body: ByteBuffer(string: "id=r1%2Fnope&name=go")) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func answeringAQuestionFromThePage() async throws {
        try await withFixture { client, http in
            let claimed = try await client.engine.leases.claim(queues: ["other"], count: 1, lease: .seconds(60), worker: "w2")
            #expect(claimed.isEmpty, "r1/c is already running")
            _ = try await client.submit(TaskSpec(id: "ask", handler: "h.ask", queue: "ask"))
            let task = try #require(try await client.engine.leases.claim(queues: ["ask"], count: 1, lease: .seconds(60), worker: "w2").first)
            let question = try SignalQuestion("Overwrite?", choices: ["yes", "no"])
            _ = try await client.engine.leases.fail([Failure(lease: task.lease, mode: .wait(name: question.signalName, timeout: nil, question: question), reason: "waiting", message: "")])
            try await http.execute(uri: "/tasks/ask", method: .get) { response in
                let html = Self.text(response)
                #expect(html.contains("Overwrite?"))
                #expect(html.contains("name=\"choice\" value=\"yes\""))
            }
            try await http.execute(uri: "/actions/answer", method: .post, body: ByteBuffer(string: "id=ask&choice=yes")) { response in
                #expect(response.status == .seeOther)
            }
            let info = try await client.status("ask")
            #expect(info.waitingFor == nil, "the answer resumed it")
            #expect(info.state == .pending)
        }
    }

    @Test func mountedUnderAPathEveryLinkCarriesIt() async throws {
        try await withSharedRedis { redis, namespace in
            let client = JobqClient(engine: try Coordinator(redis: redis, namespace: namespace))
            let router = Router()
            Dashboard(client: client).addRoutes(to: router, at: "/jobq")
            try await Application(router: router).test(.router) { http in
                try await http.execute(uri: "/jobq/", method: .get) { response in
                    #expect(response.status == .ok)
                    let html = Self.text(response)
                    #expect(html.contains("href=\"/jobq/assets/dashboard.css\"") && html.contains("href=\"/jobq/runs\"") && html.contains("data-live=\"/jobq/events\""))
                }
                try await http.execute(uri: "/jobq/api/v1/queues", method: .get) { #expect($0.status == .ok) }
                try await http.execute(uri: "/", method: .get) { #expect($0.status == .notFound) }
            }
        }
    }
}

/// The app of docs/dashboard.md's snippet, served for real (`.live`: a socket on 127.0.0.1): an
/// unauthenticated action is recorded as `dashboard@ADDRESS`.
@Suite("Dashboard in an app of one's own", .enabled(if: RedisServerFixture.shouldRun))
struct DashboardMountTests {
    @Test func actorIsTheRemoteAddressWithoutAuthentication() async throws {
        try await withSharedRedis { redis, namespace in
            let client = JobqClient(engine: try Coordinator(redis: redis, namespace: namespace))
            _ = try await client.submit(TaskSpec(id: "t1", handler: "h"))
            let dashboard = Dashboard(client: client)
            let router = Router(context: DashboardRequestContext.self)
            router.get("/health") { _, _ in "ok" }
            dashboard.addRoutes(to: router, at: "/jobq")
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), services: dashboard.services)
            try await app.test(.live) { http in
                try await http.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
                try await http.execute(uri: "/jobq/api/v1/actions/cancel-task", method: .post, body: ByteBuffer(string: "id=t1")) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                }
            }
            let info = try await client.status("t1")
            #expect(info.state == .cancelled)
            #expect(info.error == "cancelled by dashboard@127.0.0.1 from the dashboard", "\(info.error ?? "")")
        }
    }
}

@Suite("Dashboard auth parsing")
struct DashboardAuthTests {
    @Test func parsesTokensAndBasicCredentials() {
        #expect(DashboardAuth(line: "tok\n") == .token("tok"))
        #expect(DashboardAuth(line: "ops:pw") == .basic(user: "ops", password: "pw"))
        #expect(DashboardAuth(line: "") == nil)
        #expect(DashboardAuth(line: ":pw") == nil)
        #expect(DashboardAuth(line: "ops:") == nil)
        #expect(DashboardAuth.same("abc", "abc") && !DashboardAuth.same("abc", "abd") && !DashboardAuth.same("abc", "abcd"))
    }

    @Test func formsAreDecoded() {
        #expect(Dashboard.form("id=r1%2Fa&payload=%7B%22x%22%3A+1%7D&id=ignored") == ["id": "r1/a", "payload": "{\"x\": 1}"])
    }
}
