// docs/dashboard.md, "Mounting the routes in your own app": compiled, not run (it would serve
// forever). The snippet is verbatim below (scripts/check-snippets.sh).
import Hummingbird
import Jobq
import JobqDashboard

func serveDashboard() async throws {
    let client = try JobqClient(url: "redis://127.0.0.1:6379", namespace: "default")
    let dashboard = Dashboard(client: client, options: .init(auth: .token("change-me"), readOnly: false))
    let router = Router(context: DashboardRequestContext.self)
    router.get("/health") { _, _ in "ok" }                 // your own routes
    dashboard.addRoutes(to: router, at: "/jobq")            // the dashboard under /jobq
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 8080)),
        services: dashboard.services                        // its event reader runs with the app
    )
    try await app.runService()
}

_ = serveDashboard
