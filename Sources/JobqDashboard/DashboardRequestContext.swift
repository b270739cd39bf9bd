import Hummingbird
import NIOCore

/// The request context `jobq dashboard` serves with: Hummingbird's basic context plus the
/// client's address, so an action taken without authentication is recorded as
/// `dashboard@ADDRESS`. An app that mounts the dashboard may use it, or any context of its own
/// (conforming to `RemoteAddressRequestContext` gives the same actor names).
public struct DashboardRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
