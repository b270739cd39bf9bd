import Hummingbird
import Jobq
import ServiceLifecycle

/// PLACEHOLDER (helper B's file replaces it): the one XREAD loop per dashboard process that feeds
/// every browser tab's Server-Sent Events.
package final class EventHub: Service, Sendable {
    let client: JobqClient

    package init(client: JobqClient) {
        self.client = client
    }

    /// Waits for graceful shutdown or cancellation.
    package func run() async throws {
        try? await gracefulShutdown()
    }
}
