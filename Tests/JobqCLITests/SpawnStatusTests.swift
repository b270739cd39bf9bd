import Foundation
@testable import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// A task that spawned children and waits for them: `jobq status` (text and `--json`), `jobq
/// watch` and `jobq events` say so, with how far the children are.
@Suite("status: a parent waiting for its spawned children", .enabled(if: redisAvailable))
struct SpawnStatusTests {
    @Test func statusWatchAndEventsShowTheChildrenAParentWaitsFor() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "jobq.noop", "--id", "p", "--workflow", "wp"])
        let lease = try await cli.claim("p")
        let children = (0..<3).map { TaskSpec(id: "c\($0)", handler: "jobq.noop") }
        var (specs, options) = try ChildRunRequest(definition: "kids", tasks: children).submission(id: ChildRunRequest.childRunID(parent: "p", key: "children"))
        options.spawnedBy = SpawnFence(parent: lease, policy: .failParent, width: specs.count)
        _ = try await cli.coordinator.tasks.submit(specs, run: options)
        #expect(try await cli.coordinator.leases.fail([Failure(lease: lease, mode: .children, reason: "waiting_children", message: "")]) == [.waiting])
        let one = try await cli.claim("p.children/c0")
        _ = try await cli.coordinator.leases.complete([Completion(lease: one, result: Array("1".utf8))])

        let status = try await cli.run(["status", "p"])
        #expect(status.stdout.contains("waiting for 3 children of run p.children (1 done)"), "\(status.stdout)")
        let json = try await cli.run(["status", "p", "--json"])
        let value = try JSONValue.parse(json.stdout)
        #expect(value["waits_for_children"] == .bool(true))
        #expect(value["child_run"]?.stringValue == "p.children")
        #expect(value["children"]?["total"] == .int(3))
        #expect(value["children"]?["done"] == .int(1))
        let watch = try await cli.run(["watch", "wp", "--timeout", "1s"])
        #expect(watch.stdout.contains("waiting for 3 children of run p.children (1 done)"), "\(watch.stdout)")
        let events = try await cli.run(["events", "--task", "p"])
        #expect(events.stdout.contains("spawned_p.children"), "\(events.stdout)")
        #expect(events.stdout.contains("waiting_children"), "\(events.stdout)")
    }
}
