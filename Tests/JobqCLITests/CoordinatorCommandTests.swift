import Foundation
import JobqCore
import Testing

@Suite("jobq coordinator", .enabled(if: redisAvailable))
struct CoordinatorCommandTests {
    /// With no worker running, one pass promotes a due delayed task and reaps an expired lease.
    @Test func oneMaintenancePass() async throws {
        let cli = try await CLIHarness.make()
        #expect(try await cli.run(["submit", "h", "--id", "later", "--delay", "200ms"]).status == 0)
        #expect(try await cli.run(["submit", "h", "--id", "held"]).status == 0)
        let claimed = try #require(try await cli.coordinator.leases.claim(queues: ["default"], count: 1, lease: .milliseconds(100), worker: "gone").first)
        #expect(claimed.id == "held")
        try await Task.sleep(for: .milliseconds(400))
        let pass = try await cli.run(["coordinator", "--once", "--json"])
        #expect(pass.status == 0, "\(pass.stderr)")
        let json = try pass.json()
        #expect(json["ran"] as? Bool == true)
        #expect(json["reaped"] as? Int == 1)
        #expect(json["promoted"] as? Int == 1)
        #expect(try await cli.state("held") == .pending)
        #expect(Set(try await cli.coordinator.leases.claim(queues: ["default"], count: 5, lease: .seconds(5), worker: "w").map(\.id)) == ["later", "held"])
        let human = try await cli.run(["coordinator", "--once", "--interval", "50ms"])
        #expect(human.status == 0)
        #expect(human.trimmedOutput.hasPrefix("reaped 0, promoted 0") || human.trimmedOutput.hasPrefix("another process"))
    }
}
