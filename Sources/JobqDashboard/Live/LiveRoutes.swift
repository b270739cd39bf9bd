import Hummingbird

extension Dashboard {
    /// PLACEHOLDER (helper B's file replaces it): `GET /events` (SSE) and `GET /assets/dashboard.js`.
    package func addLiveRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {}
}
