import Foundation
@testable import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// `jobq watch` says "delayed, runs in …" / "retry 2/5 in …" rather than "queued", by Redis's clock.
@Suite("watch: what a pending task waits for", .enabled(if: redisAvailable))
struct WatchPendingDetailTests {
    @Test func watchSaysDelayedAndRetryInsteadOfQueued() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "jobq.noop", "--id", "later", "--delay", "1h", "--workflow", "wt"])
        _ = try await cli.run(["submit", "jobq.noop", "--id", "again", "--max-attempts", "5", "--workflow", "wt"])
        let lease = try await cli.claim("again")
        let outcome = try await cli.coordinator.leases.fail([Failure(lease: lease, mode: .retry(delay: .seconds(3600)), reason: "error", message: "flaky")])
        #expect(outcome == [.retrying])
        let watch = try await cli.run(["watch", "wt", "--timeout", "1s"])
        #expect(watch.status == 75, "\(watch.stderr)")
        #expect(watch.stdout.contains("later: PENDING  delayed, runs in 59m"), "\(watch.stdout)")
        #expect(watch.stdout.contains("again: PENDING  retry 2/5 in 59m"), "\(watch.stdout)")
        #expect(!watch.stdout.contains("queued"), "\(watch.stdout)")
    }

    @Test func detailMeasuresTimeAgainstTheServerClock() throws {
        var task = try #require(TaskInfo(id: "t", fields: ["spec": Array("q\th\t3\t1000\t1000\t\t0\t\t".utf8), "state": Array("PENDING".utf8), "run_after": Array("10000".utf8)], prerequisites: []))
        let snapshot = Snapshot(target: .task("t"), tasks: [task], progress: [:], states: [:], serverNow: 8_800)
        #expect(snapshot.detail(of: task) == "delayed, runs in 1.2s")
        task.attempts = 1
        #expect(snapshot.detail(of: task) == "retry 2/3 in 1.2s")
        task.runAfter = nil
        #expect(snapshot.detail(of: task) == "queued (attempt 2/3)")
        // an expiry still ahead is named whatever the task waits for; a passed one is not
        task.expiresAt = 9_300
        #expect(snapshot.detail(of: task) == "queued (attempt 2/3); expires in 500ms")
        task.expiresAt = 8_800
        #expect(snapshot.detail(of: task) == "queued (attempt 2/3)")
    }

    @Test func watchNamesTheExpiryOfAPendingTask() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "jobq.noop", "--id", "soon", "--delay", "1h", "--expires", "2h", "--workflow", "ex"])
        let watch = try await cli.run(["watch", "ex", "--timeout", "1s"])
        #expect(watch.stdout.contains("soon: PENDING  delayed, runs in 59m"), "\(watch.stdout)")
        #expect(watch.stdout.contains("; expires in 1h59m"), "\(watch.stdout)")
    }
}
