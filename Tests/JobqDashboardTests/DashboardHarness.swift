import Foundation
import Hummingbird
import HummingbirdTesting
import Jobq
import JobqCore
import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqDashboard

/// A dashboard over a fresh namespace of the shared test server, driven through its router (no
/// network): the client, its Redis connection and the router's test client.
func withDashboardRouter(options: Dashboard.Options = Dashboard.Options(), _ body: @escaping @Sendable (JobqClient, RedisClient, any TestClientProtocol) async throws -> Void) async throws {
    try await withSharedRedis { redis, namespace in
        let client = JobqClient(engine: try Coordinator(redis: redis, namespace: namespace))
        let router = Router()
        Dashboard(client: client, options: options).addRoutes(to: router)
        try await Application(router: router).test(.router) { http in try await body(client, redis, http) }
    }
}

/// A response body as a JSON object.
func jsonObject(_ response: TestResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any], "not JSON: \(String(buffer: response.body))")
}
