import Foundation
@testable import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// `max_snoozes:` (`--max-snoozes`: SubmitNumericOptionTests), and how status, watch and `--json` show snoozes and
/// checkpoints.
@Suite("snooze and checkpoints in the CLI", .enabled(if: redisAvailable))
struct SnoozeCommandTests: WorkflowFileParsing {
    @Test func maxSnoozesInAWorkflowFileIsRangeChecked() throws {
        let file = try parse("""
            defaults: {max_snoozes: 5}
            tasks:
              - {id: a, handler: h}
              - {id: b, handler: h, max_snoozes: 0}
            """)
        #expect(file.entries.map(\.spec.maxSnoozes) == [5, 0])
        let error = failure("""
            tasks:
              - {id: a, handler: h, max_snoozes: -2}
            """)
        #expect(error?.code == .invalidOption)
        #expect(error?.message.contains("`max_snoozes` must be from 0 to 100000; got -2") == true, "\(error?.message ?? "")")
    }

    @Test func statusAndWatchShowSnoozesAndTheCheckpoint() async throws {
        let cli = try await CLIHarness.make()
        let submitted = try await cli.run(["submit", "jobq.noop", "--id", "poll", "--max-snoozes", "7", "--workflow", "sz"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let lease = try await cli.claim("poll")
        try await cli.coordinator.leases.saveCheckpoint(lease, Array(("\"" + String(repeating: "x", count: 1198) + "\"").utf8))
        let snoozed = Failure(lease: lease, mode: .snooze(delay: .seconds(3600), retryDelay: .zero), reason: "snoozed", message: "not yet")
        #expect(try await cli.coordinator.leases.fail([snoozed]) == [.snoozed])

        let watch = try await cli.run(["watch", "sz", "--timeout", "1s"])
        #expect(watch.stdout.contains("poll: PENDING  snoozed, runs in 59m"), "\(watch.stdout)")
        #expect(watch.stdout.contains("(1 snooze)"), "\(watch.stdout)")

        let status = try await cli.run(["status", "poll"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("snoozes: 1 of 7"), "\(status.stdout)")
        #expect(status.stdout.contains("(snoozed by its handler)"), "\(status.stdout)")
        #expect(status.stdout.contains("1.2 KB saved"), "\(status.stdout)")
        #expect(status.stdout.contains("snoozed (not charged)"), "\(status.stdout)")

        let json = try await cli.run(["status", "poll", "--json"]).json()
        #expect(json["snoozes"] as? Int == 1)
        #expect(json["max_snoozes"] as? Int == 7)
        #expect(json["checkpoint_bytes"] as? Int == 1200)
        #expect(json["checkpoint_at"] is String)
        #expect(json["checkpoint"] == nil)
    }

    @Test func checkpointTextSaysSizeAndAge() {
        #expect(TaskDetail.checkpointText(bytes: 1234, at: 0, now: 180_000) == "1.2 KB saved 3m ago")
        #expect(TaskDetail.checkpointText(bytes: 12, at: nil, now: 0) == "12 B saved")
    }
}
