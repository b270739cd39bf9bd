import Foundation
import JobqMetrics
import JobqTestSupport
import Synchronization
import Testing

/// The HTTP responder the worker and the coordinator share: routes, a failing scrape, refusals.
@Suite("metrics server")
struct MetricsServerTests {
    struct Unreachable: Error, CustomStringConvertible {
        let description = "Redis is unreachable"
    }

    @Test func servesTheBodyAndHealth() async throws {
        let healthy = Flag()
        let server = try MetricsServer(address: "127.0.0.1", port: 0, healthy: { healthy.isSet }) { Array("jobq_up 1\n".utf8) }
        server.start()
        defer { server.stop() }
        #expect(server.port > 0)
        let metrics = try await httpRequest(port: server.port, path: "/metrics")
        #expect(metrics.status == 200 && metrics.body == "jobq_up 1\n")
        #expect(try await httpRequest(port: server.port, path: "/healthz").status == 503)
        healthy.set()
        #expect(try await httpRequest(port: server.port, path: "/healthz").status == 200)
        #expect(try await httpRequest(port: server.port, path: "/other").status == 404)
    }

    /// A scrape whose read fails is a 503 with the reason, never an empty 200.
    @Test func aFailingScrapeIs503() async throws {
        let server = try MetricsServer(address: "127.0.0.1", port: 0) { throw Unreachable() }
        server.start()
        defer { server.stop() }
        let reply = try await httpRequest(port: server.port, path: "/metrics")
        #expect(reply.status == 503)
        #expect(reply.body.contains("Redis is unreachable"))
    }

    @Test func refusesABadAddressAndATakenPort() throws {
        #expect { try MetricsServer(address: "localhost", port: 0) { [] } } throws: { error in
            (error as? MetricsServer.BindError)?.kind == .badAddress
        }
        let first = try MetricsServer(address: "127.0.0.1", port: 0) { [] }
        defer { first.stop() }
        #expect { try MetricsServer(address: "127.0.0.1", port: first.port) { [] } } throws: { error in
            (error as? MetricsServer.BindError)?.kind == .cannotListen
        }
    }
}

/// A flag set from the test and read by the server's thread.
final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
