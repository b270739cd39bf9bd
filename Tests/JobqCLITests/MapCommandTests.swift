import Foundation
import JobqCore
import JobqTestSupport
import Testing

/// A `map:` file through the CLI and a real `jobq-worker`: `status` shows the waiting map's
/// progress, `result` prints the children's results in order, the event stream has the
/// expansion; a bad map is refused with `invalid_map` and writes nothing.
@Suite("jobq: maps from a file", .enabled(if: redisAvailable))
struct MapCommandTests {
    @Test func aMapFileRunsAndShowsItsProgress() async throws {
        let cli = try await CLIHarness.make()
        let path = NSTemporaryDirectory() + "jobq-map-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) + ".yaml"
        try """
            workflow: mapped
            tasks:
              - {id: list, handler: jobq.echo, payload: [0.3, 0.3, 0.3]}
              - id: sleeps
                after: [list]
                map:
                  over: !retval list
                  task: {handler: jobq.sleep, payload: {seconds: !item }}
                  window: 1
              - {id: total, handler: jobq.echo, after: [sleeps], payload: {all: !retval sleeps}}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let submitted = try await cli.run(["submit", "-f", path, "--run", "m1"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let worker = try await RunningCLI.start(
            ["--redis", cli.server.url, "--namespace", cli.namespace, "--enable-test-handlers", "--once", "--concurrency", "2"],
            executable: JobqBinary.workerPath
        )
        // While the children run (one at a time, 0.3 s each), the map says how far it has got.
        var seen: [String: Any]?
        var inRun: [String: Any]?
        let clock = ContinuousClock()
        let begin = clock.now
        while seen == nil || inRun == nil, clock.now - begin < .seconds(30) {
            if seen == nil, let mapped = try await cli.run(["status", "m1/sleeps", "--json"]).json()["mapped"] as? [String: Any] { seen = mapped }
            // the run's view (and watch's) has the same object on the map's row
            let tasks = try await cli.run(["status", "m1", "--json"]).json()["tasks"] as? [[String: Any]] ?? []
            if inRun == nil, let mapped = tasks.first(where: { ($0["id"] as? String) == "m1/sleeps" })?["mapped"] as? [String: Any] { inRun = mapped }
            try await Task.sleep(for: .milliseconds(50))
        }
        let mapped = try #require(seen, "the waiting map's status never showed its progress")
        #expect(mapped["run"] as? String == "m1.sleeps" && mapped["count"] as? Int == 3, "\(mapped)")
        let row = try #require(inRun, "the run's status never showed the map's progress")
        #expect(row["count"] as? Int == 3 && (row["done"] as? Int ?? -1) >= 0, "\(row)")
        let text = try await cli.run(["status", "m1/sleeps"])
        #expect(text.stdout.contains("mapped: ") && text.stdout.contains("of 3 children done (run m1.sleeps)") || text.stdout.contains("DONE"), "\(text.stdout)")

        let waited = try await cli.run(["wait", "m1", "--timeout", "60s", "--json"])
        #expect(waited.status == 0, "\(waited.stdout)\(waited.stderr)")
        let drained = await worker.finish(timeout: .seconds(60))
        #expect(drained.status == 0, "\(drained.stderr)")
        let result = try await cli.run(["result", "m1/sleeps"])
        #expect(result.trimmedOutput.replacingOccurrences(of: " ", with: "") == #"[{"slept":0.3},{"slept":0.3},{"slept":0.3}]"#, "\(result.stdout)")
        let total = try await cli.run(["result", "m1/total"])
        #expect(total.trimmedOutput.replacingOccurrences(of: " ", with: "") == #"{"all":[{"slept":0.3},{"slept":0.3},{"slept":0.3}]}"#, "\(total.stdout)")
        let events = try await cli.run(["events", "--task", "m1/sleeps", "--json"])
        #expect(events.stdout.contains("mapped:3"), "\(events.stdout)")
    }

    /// A key template in a map's `task` may name fields inside `!item`: each child gets its own
    /// element's key; a child whose element lacks the field fails the map with `bad_payload`.
    @Test func keyTemplatesReachIntoTheElement() async throws {
        let cli = try await CLIHarness.make()
        func file(_ over: String) throws -> String {
            let path = NSTemporaryDirectory() + "jobq-mapkeys-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) + ".yaml"
            try """
                tasks:
                  - id: m
                    map:
                      over: \(over)
                      task:
                        handler: jobq.echo
                        payload: {job: !item }
                        concurrency_key: "acct-{payload.job.tenant}"
                        concurrency_limit: 1
                        fair_key: "t-{payload.job.tenant}"
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        #expect(try await cli.run(["submit", "-f", try file("[{tenant: a}, {tenant: b}]"), "--run", "k1"]).status == 0)
        #expect(try await cli.run(["submit", "-f", try file("[{tenant: a}, {other: 1}]"), "--run", "k2"]).status == 0)
        let worker = try await RunningCLI.start(
            ["--redis", cli.server.url, "--namespace", cli.namespace, "--enable-test-handlers", "--once", "--concurrency", "2"],
            executable: JobqBinary.workerPath
        )
        #expect(try await cli.run(["wait", "k1", "--timeout", "60s"]).status == 0)
        #expect(try await cli.run(["wait", "k2", "--timeout", "60s"]).status == 1)
        let drained = await worker.finish(timeout: .seconds(60))
        #expect(drained.status == 0, "\(drained.stderr)")
        for (child, key) in [("k1.m/0", "acct-a"), ("k1.m/1", "acct-b")] {
            let status = try await cli.run(["status", child])
            #expect(status.stdout.contains(key), "\(child): \(status.stdout)")
        }
        let failed = try await cli.run(["status", "k2/m", "--json"]).json()
        #expect(failed["state"] as? String == "FAILED" && failed["reason"] as? String == "bad_payload", "\(failed)")
        #expect((failed["error"] as? String ?? "").contains("payload.job.tenant"), "\(failed)")
    }

    @Test func aBadMapIsRefusedAndWritesNothing() async throws {
        let cli = try await CLIHarness.make()
        let path = NSTemporaryDirectory() + "jobq-badmap-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) + ".yaml"
        try """
            tasks:
              - {id: m, map: {over: [1, 2], task: {handler: jobq.echo}, width: 0}}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let before = try await cli.keysInNamespace()
        let refused = try await cli.run(["submit", "-f", path, "--json"])
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(try refused.jsonError()["code"] as? String == "invalid_map")
        #expect(try await cli.keysInNamespace() == before, "nothing was written")
    }
}
