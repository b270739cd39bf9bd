import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import JobqCore
import Testing

@testable import JobqCLI

/// The real `jobq dashboard` next to the CLI: an action taken from the dashboard's API names its
/// actor in `jobq events --json`, a CLI action names `$USER@host` or `--actor`, and the API's
/// twins decode to the same fields as the CLI's `--json` (docs/dashboard.md).
@Suite("jobq dashboard and the CLI", .enabled(if: redisAvailable))
struct DashboardParityTests {
    /// Runs `jobq dashboard` on a free loopback port for `body`, then stops it.
    func withDashboard(_ cli: CLIHarness, _ body: @escaping @Sendable (TestClient) async throws -> Void) async throws {
        let server = try await RunningCLI.start(["dashboard", "--listen", "127.0.0.1:0", "--redis", cli.server.url, "--namespace", cli.namespace])
        defer { server.process.terminate() }
        let line = await server.firstOutput(timeout: .seconds(30))
        let url = try #require(line.split(separator: " ").first { $0.hasPrefix("http://127.0.0.1:") }.map(String.init), "no URL in: \(line) \(server.stderr)")
        let port = try #require(url.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: "/"))) })
        try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(20))) { http in try await body(http) }
        server.process.terminate()
        _ = await server.finish(timeout: .seconds(30))
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// `jobq events --json` lines of `task`.
    func events(_ cli: CLIHarness, task: String) async throws -> [[String: Any]] {
        let result = try await cli.run(["events", "--json", "--task", task, "--limit", "1000"])
        #expect(result.status == 0, "\(result.stderr)")
        return try result.stdout.split(separator: "\n").map { try Self.object(String($0)) }
    }

    @Test func anActionFromTheDashboardNamesItsActorInTheEvents() async throws {
        let cli = try await CLIHarness.make()
        for id in ["web", "term", "mine"] {
            #expect(try await cli.run(["submit", "jobq.noop", "--id", id]).status == 0)
        }
        try await withDashboard(cli) { http in
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            let cancelled = try await http.post("/api/v1/actions/cancel-task", headers: form, body: ByteBuffer(string: "id=web"))
            #expect(cancelled.status == .ok, "\(cancelled.body.map { String(buffer: $0) } ?? "")")
            let paused = try await http.post("/api/v1/actions/pause-queue", headers: form, body: ByteBuffer(string: "queue=default"))
            #expect(paused.status == .ok)
        }
        let web = try #require(try await events(cli, task: "web").last)
        #expect(web["to"] as? String == "CANCELLED" && web["by"] as? String == "dashboard@127.0.0.1", "\(web)")
        // the queue's line: `jobq events --queue` follows it, and the text form names the actor
        let queueLines = try await cli.run(["events", "--json", "--queue", "default"])
        let pause = try #require(try queueLines.stdout.split(separator: "\n").map { try Self.object(String($0)) }.first { $0["queue"] as? String == "default" }, "\(queueLines.stdout)")
        #expect(pause["reason"] as? String == "paused" && pause["by"] as? String == "dashboard@127.0.0.1" && pause["task"] is NSNull, "\(pause)")
        let text = try await cli.run(["events", "--queue", "default"])
        #expect(text.stdout.contains("queue default  paused  by dashboard@127.0.0.1"), "\(text.stdout)")

        // the CLI: --actor, else $USER@host
        #expect(try await cli.run(["cancel", "term", "--actor", "alice"]).status == 0)
        #expect(try #require(try await events(cli, task: "term").last)["by"] as? String == "alice")
        #expect(try await cli.run(["cancel", "mine"], environment: ["USER": "bob"]).status == 0)
        let mine = try #require(try await events(cli, task: "mine").last?["by"] as? String)
        #expect(mine == "bob@" + ProcessInfo.processInfo.hostName, "\(mine)")
        #expect(try await cli.run(["resume", "default", "--actor", "carol"]).status == 0)
        let resumed = try await cli.run(["events", "--queue", "default", "--json"])
        #expect(resumed.stdout.contains(#""reason":"resumed""#) && resumed.stdout.contains(#""by":"carol""#), "\(resumed.stdout)")
        // the engine's own transitions name nobody
        let created = try #require(try await events(cli, task: "term").first)
        #expect(created["by"] is NSNull, "\(created)")
    }

    @Test func theTwinsDecodeToTheFieldsOfTheCLIJSON() async throws {
        let cli = try await CLIHarness.make()
        let file = try CLIHarness.temporaryFile("parity.yaml", """
            workflow: parity
            tasks:
              - {id: a, handler: jobq.noop, payload: {"n": 1}}
              - {id: b, handler: jobq.noop, after: [a]}
            """)
        let submitted = try await cli.run(["submit", "-f", file, "--run", "parity-1"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        try await withDashboard(cli) { http in
            for task in ["parity-1/a", "parity-1/b"] {
                let status = try await cli.run(["status", task, "--json"])
                #expect(status.status == 0, "\(status.stderr)")
                let api = try await http.get("/api/v1/tasks/" + task)
                let twin = try Self.object(api.body.map { String(buffer: $0) } ?? "")
                let mine = try Self.object(status.stdout)
                #expect(Set(twin.keys) == Set(mine.keys), "only in the API: \(Set(twin.keys).subtracting(mine.keys)), only in the CLI: \(Set(mine.keys).subtracting(twin.keys))")
                #expect(NSDictionary(dictionary: twin) == NSDictionary(dictionary: mine), "\(task): \(twin) vs \(mine)")
            }
            // the run: the API's fields are the CLI's; the CLI's tasks say more (detail, progress)
            let run = try Self.object(try await cli.run(["status", "parity-1", "--json"]).stdout)
            let runTwin = try Self.object(try await http.get("/api/v1/runs/parity-1").body.map { String(buffer: $0) } ?? "")
            #expect(Set(runTwin.keys).subtracting(["next"]) == Set(run.keys), "\(runTwin.keys) vs \(run.keys)")
            let cliTask = try #require((run["tasks"] as? [[String: Any]])?.first)
            let apiTask = try #require((runTwin["tasks"] as? [[String: Any]])?.first)
            #expect(Set(apiTask.keys).isSubset(of: Set(cliTask.keys)) && Set(cliTask.keys).subtracting(apiTask.keys) == ["detail", "progress"])
            // the overview is `jobq stats --json`
            let stats = try Self.object(try await cli.run(["stats", "--json"]).stdout)
            let overview = try Self.object(try await http.get("/api/v1/overview").body.map { String(buffer: $0) } ?? "")
            #expect(Set(stats.keys) == Set(overview.keys), "\(stats.keys) vs \(overview.keys)")
            #expect(NSDictionary(dictionary: stats["tasks"] as? [String: Any] ?? [:]) == NSDictionary(dictionary: overview["tasks"] as? [String: Any] ?? [:]))
        }
    }
}
