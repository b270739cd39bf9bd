import Hummingbird
import Jobq

/// The jobq web dashboard: every page and its `/api/v1` twin, as routes over one ``JobqClient``.
///
/// All state lives in Redis, so any number of dashboard processes may serve the same namespace.
public struct Dashboard: Sendable {
    let client: JobqClient

    public init(client: JobqClient) {
        self.client = client
    }
}
