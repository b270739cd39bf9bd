import Testing
@testable import JobqDashboard

@Suite("Dashboard")
struct DashboardTests {
}
