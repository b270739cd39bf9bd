import Hummingbird
import Jobq

/// The jobq web dashboard: every page and its `/api/v1` twin, as routes over one ``JobqClient``.
///
/// All state lives in Redis, so any number of dashboard processes may serve the same namespace.
public struct Dashboard: Sendable {
    let client: JobqClient
    /// The one transition-stream reader of this process, feeding every tab's `/events`; run it
    /// beside the server (it is a `Service`).
    let hub: EventHub

    public init(client: JobqClient) {
        self.client = client
        self.hub = EventHub(client: client)
    }

    package init(client: JobqClient, hub: EventHub) {
        self.client = client
        self.hub = hub
    }
}
