import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import JobqCLI

/// `jobq dashboard`: the loopback-unless-authenticated rule, and a real server answering.
@Suite("jobq dashboard")
struct DashboardCommandTests {
    @Test func listenAddressesAndLoopback() throws {
        let v4 = try DashboardCommand.address("127.0.0.1:7800")
        #expect(v4.0 == "127.0.0.1" && v4.1 == 7800)
        let v6 = try DashboardCommand.address("[::1]:0")
        #expect(v6.0 == "::1" && v6.1 == 0)
        #expect(throws: (any Error).self) { try DashboardCommand.address("7800") }
        #expect(throws: (any Error).self) { try DashboardCommand.address("host:99999") }
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1"] { #expect(DashboardCommand.isLoopback(host), "\(host)") }
        for host in ["0.0.0.0", "10.0.0.1", "::", "example.com", "127.0.0.1.example.com", "1127.0.0.1"] { #expect(!DashboardCommand.isLoopback(host), "\(host)") }
    }

    @Test(.enabled(if: redisAvailable)) func aNonLoopbackAddressWithoutCredentialsIsRefused() async throws {
        let cli = try await CLIHarness.make()
        for listen in ["0.0.0.0:0", "[::]:0"] {
            let result = try await cli.run(["dashboard", "--listen", listen], timeout: .seconds(30))
            #expect(result.status == 64, "\(listen): \(result.stderr)")
            #expect(result.stderr.contains("[insecure_listen]"), "\(result.stderr)")
        }
        // credentials from a file that is not there: refused too, with its code
        let missing = try await cli.run(["dashboard", "--listen", "0.0.0.0:0", "--auth-file", "/nonexistent/auth"], timeout: .seconds(30))
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("[file_not_found]"))
    }

    @Test(.enabled(if: redisAvailable)) func servesPagesAndTheAPIOnLoopback() async throws {
        let cli = try await CLIHarness.make()
        let token = try CLIHarness.temporaryFile("dashboard.auth", "s3cret\n")
        let server = try await RunningCLI.start(["dashboard", "--listen", "127.0.0.1:0", "--auth-file", token, "--read-only",
                                                 "--redis", cli.server.url, "--namespace", cli.namespace])
        defer { server.process.terminate() }
        let line = await server.firstOutput(timeout: .seconds(30))
        let url = try #require(line.split(separator: " ").first { $0.hasPrefix("http://127.0.0.1:") }.map(String.init), "no URL in: \(line) \(server.stderr)")
        #expect(line.contains("read-only") && line.contains("authentication required"))

        let port = try #require(url.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: "/"))) })
        // HummingbirdTesting's HTTP client (NIO), bounded by its timeout
        try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(20))) { http in
            #expect(try await http.get("/api/v1/queues").status == .unauthorized)
            let authorized: HTTPFields = [.authorization: "Bearer s3cret"]
            let queues = try await http.get("/api/v1/queues", headers: authorized)
            #expect(queues.status == .ok)
            #expect(queues.body.map { String(buffer: $0) }?.trimmingCharacters(in: .whitespacesAndNewlines) == #"{"queues":[]}"#)
            let page = try await http.get("/", headers: authorized)
            #expect(page.status == .ok)
            #expect(page.body.map { String(buffer: $0) }?.contains("namespace \(cli.namespace)") == true)
            #expect(page.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'self'") == true)
        }

        server.process.terminate()
        let result = await server.finish(timeout: .seconds(30))
        #expect(result.status == 0, "SIGTERM stops it gracefully: \(result.stderr)")
    }
}
