import Foundation
import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// `jobq events`: the last N transitions with each filter, `--since`, `-f`, a closed pipe, a
/// Redis restart while following, and bad input (docs/cli.md, `jobq events`).
@Suite("jobq events", .enabled(if: redisAvailable))
struct EventsCommandTests {
    /// A run `wf` on queue q1 (a → b, a → c): `wf/a` DONE, `wf/b` FAILED, `wf/c` left PENDING;
    /// a standalone `s1` on queue `other`, DONE; a standalone `s2` on `default`, CANCELLED.
    func seed(_ cli: CLIHarness) async throws {
        let path = try CLIHarness.temporaryFile("flow.yaml", """
            workflow: wf
            tasks:
              - {id: a, handler: jobq.echo}
              - {id: b, handler: jobq.fail, after: [a], retries: 0}
              - {id: c, handler: jobq.noop, after: [a]}
            """)
        #expect(try await cli.run(["submit", "-f", path, "--run", "wf", "--queue", "q1"]).status == 0)
        #expect(try await cli.run(["submit", "jobq.noop", "--id", "s1", "--queue", "other"]).status == 0)
        #expect(try await cli.run(["submit", "jobq.noop", "--id", "s2"]).status == 0)
        try await cli.complete("wf/a", queue: "q1")
        try await cli.failFinal("wf/b", queue: "q1")
        try await cli.complete("s1", queue: "other")
        #expect(try await cli.run(["cancel", "s2", "--actor", "ops"]).status == 0)
    }

    /// Every transition the seed makes, oldest first, as `task from to attempt reason` (the
    /// JSON fields; `@RUN` for run-level lines, `-` for null). Claims and completions carry no
    /// reason; `wf/c` is claimed along with `wf/b` and handed back by the harness (`shutdown`).
    static let all = [
        "@wf - PENDING 0 submitted",
        "wf/a - PENDING 0 ",
        "wf/b - PENDING 0 ",
        "wf/c - PENDING 0 ",
        "s1 - PENDING 0 ",
        "s2 - PENDING 0 ",
        "wf/a PENDING RUNNING 1 ",
        "@wf PENDING RUNNING 0 started",
        "wf/a RUNNING DONE 1 ",
        "wf/b PENDING RUNNING 1 ",
        "wf/c PENDING RUNNING 1 ",
        "wf/c RUNNING PENDING 0 shutdown",
        "wf/b RUNNING FAILED 1 error",
        "s1 PENDING RUNNING 1 ",
        "s1 RUNNING DONE 1 ",
        "s2 PENDING CANCELLED 0 cancelled",
    ]

    /// NDJSON lines as `task from to attempt reason`, checking each object's shape on the way.
    func transitions(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        return try result.stdout.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], sourceLocation: sourceLocation)
            #expect(Set(object.keys) == ["stream_id", "time", "task", "run", "key", "schedule", "queue", "from", "to", "attempt", "reason", "by"], sourceLocation: sourceLocation)
            #expect(object["schedule"] is NSNull, sourceLocation: sourceLocation)
            #expect(EventStreamID(object["stream_id"] as? String ?? "") != nil, sourceLocation: sourceLocation)
            #expect((object["time"] as? String)?.hasSuffix("Z") == true, sourceLocation: sourceLocation)
            let task = object["task"] as? String
            let run = object["run"] as? String
            if let task {
                #expect(run == RunScope.run(of: task), sourceLocation: sourceLocation)
                #expect(object["key"] as? String == RunScope.split(task)?.key, sourceLocation: sourceLocation)
            } else {
                #expect(object["key"] is NSNull, sourceLocation: sourceLocation)
            }
            let name = task ?? "@" + (run ?? "?")
            return "\(name) \(object["from"] as? String ?? "-") \(object["to"] as? String ?? "-") \(object["attempt"] as? Int ?? -1) \(object["reason"] as? String ?? "?")"
        }
    }

    @Test func lastTransitionsWithEachFilter() async throws {
        let cli = try await CLIHarness.make()
        try await seed(cli)
        #expect(try transitions(try await cli.run(["events", "--json", "--limit", "10000"])) == Self.all)
        // Default: the last 20 (the seed has fewer); --limit: the last N, still oldest first.
        #expect(try transitions(try await cli.run(["events", "--json"])) == Self.all)
        #expect(try transitions(try await cli.run(["events", "--json", "--limit", "3"])) == Array(Self.all.suffix(3)))
        #expect(try transitions(try await cli.run(["events", "--json", "--run", "wf"])) == Self.all.filter { $0.hasPrefix("wf/") || $0.hasPrefix("@wf ") })
        #expect(try transitions(try await cli.run(["events", "--json", "--task", "wf/b"])) == Self.all.filter { $0.hasPrefix("wf/b ") })
        #expect(try transitions(try await cli.run(["events", "--json", "--task", "s1", "--limit", "1"])) == ["s1 RUNNING DONE 1 "])
        #expect(try transitions(try await cli.run(["events", "--json", "--queue", "other"])) == Self.all.filter { $0.hasPrefix("s1 ") })
        // Run-level lines have no queue; filters combine.
        #expect(try transitions(try await cli.run(["events", "--json", "--queue", "q1"])) == Self.all.filter { $0.hasPrefix("wf/") })
        #expect(try transitions(try await cli.run(["events", "--json", "--queue", "q1", "--task", "wf/a", "--limit", "2"])) == ["wf/a PENDING RUNNING 1 ", "wf/a RUNNING DONE 1 "])
        #expect(try transitions(try await cli.run(["events", "--json", "--queue", "other", "--run", "wf"])).isEmpty)

        // A task whose record is gone has no queue any more: it no longer matches --queue.
        #expect(try await cli.run(["purge", "--finished", "--state", "done"]).status == 0)
        _ = try await cli.coordinator.maintenance.pass(owner: "test", interval: .seconds(1))
        #expect(try await cli.state("s1") == nil)
        #expect(try transitions(try await cli.run(["events", "--json", "--queue", "other"])).isEmpty)
        #expect(try transitions(try await cli.run(["events", "--json", "--task", "s1"])).count == 3)

        // Unknown runs and tasks are not errors: nothing matches (yet).
        let unknown = try await cli.run(["events", "--run", "nope", "--task", "nope/x"])
        #expect(unknown.status == 0 && unknown.stdout.isEmpty && unknown.stderr.isEmpty, "\(unknown)")
    }

    /// A schedule's lines (schedule.lua's `@sched:NAME`) are the schedule's, not a run's: named
    /// as such in text and JSON, and outside --run/--task/--queue.
    @Test func scheduleLinesAreNamedAsSchedules() async throws {
        let cli = try await CLIHarness.make()
        #expect(try await cli.run(["schedule", "add", "tick", "--every", "1h", "jobq.noop"]).status == 0)
        #expect(try await cli.run(["schedule", "pause", "tick"]).status == 0)
        let text = try await cli.run(["events"])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map { String($0.dropFirst(25)) }
        #expect(lines == ["schedule tick  added", "schedule tick  paused"], "\(text.stdout)")
        let json = try await cli.run(["events", "--json", "--limit", "1"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["schedule"] as? String == "tick" && object["task"] is NSNull && object["run"] is NSNull, "\(json.stdout)")
        #expect(object["reason"] as? String == "paused")
        let queued = try await cli.run(["events", "--queue", "default"])
        #expect(queued.status == 0 && queued.stdout.isEmpty, "a schedule line has no queue: \(queued.stdout)")
    }

    @Test func humanLines() async throws {
        let cli = try await CLIHarness.make()
        try await seed(cli)
        let result = try await cli.run(["events", "--run", "wf", "--limit", "4"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // Local time with milliseconds first: `2026-05-01 12:03:04.567`.
        #expect(lines.allSatisfy { $0.range(of: #"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  "#, options: .regularExpression) != nil }, "\(lines)")
        #expect(lines.map { String($0.dropFirst(25)) } == [
            "wf/b  PENDING → RUNNING  attempt 1",
            "wf/c  PENDING → RUNNING  attempt 1",
            "wf/c  RUNNING → PENDING  attempt 0  shutdown",
            "wf/b  RUNNING → FAILED  attempt 1  error",
        ])
        let first = try await cli.run(["events", "--limit", "2"], environment: [:])
        #expect(first.stdout.split(separator: "\n").map { String($0.dropFirst(25)) } == ["s1  RUNNING → DONE  attempt 1", "s2  PENDING → CANCELLED  attempt 0  cancelled  by ops"])
        let run = try await cli.run(["events", "--task", "wf/a", "--limit", "1"])
        #expect(run.stdout.dropFirst(25) == "wf/a  RUNNING → DONE  attempt 1\n")
        let created = try await cli.run(["events", "--run", "wf", "--limit", "2", "--since", "0-0"])
        #expect(created.stdout.split(separator: "\n").map { String($0.dropFirst(25)) } == ["wf/c  RUNNING → PENDING  attempt 0  shutdown", "wf/b  RUNNING → FAILED  attempt 1  error"])
        let runLine = try await cli.run(["events", "--run", "wf", "--since", "0-0", "--limit", "1000"])
        #expect(runLine.stdout.split(separator: "\n").map { String($0.dropFirst(25)) }.prefix(2) == ["run wf  (new) → PENDING  submitted", "wf/a  (new) → PENDING  attempt 0"])
        #expect(!result.stdout.contains("\u{1B}["), "colours when not on a terminal")
    }

    @Test func sinceAStreamIDADurationAndATime() async throws {
        let cli = try await CLIHarness.make()
        try await seed(cli)
        let everything = try await cli.run(["events", "--json", "--limit", "10000"])
        let ids = everything.stdout.split(separator: "\n").map { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["stream_id"] as? String ?? ""
        }
        // From an entry's id on, inclusive: the entry of `wf/a RUNNING DONE` and everything after.
        let index = try #require(Self.all.firstIndex(of: "wf/a RUNNING DONE 1 "))
        let from = try #require(ids.firstIndex(of: ids[index]))
        #expect(try transitions(try await cli.run(["events", "--json", "--since", ids[index]])) == Array(Self.all[from...]))
        // With --since, --limit keeps the last N of the range.
        #expect(try transitions(try await cli.run(["events", "--json", "--since", ids[index], "--limit", "2"])) == Array(Self.all.suffix(2)))
        #expect(try transitions(try await cli.run(["events", "--json", "--since", "1h"])) == Self.all)
        #expect(try transitions(try await cli.run(["events", "--json", "--since", "2000-01-01T00:00:00Z", "--run", "wf"])) == Self.all.filter { $0.hasPrefix("wf/") || $0.hasPrefix("@wf ") })
        #expect(try transitions(try await cli.run(["events", "--json", "--since", "2999-01-01T00:00:00Z"])).isEmpty)

        // A duration is that long ago on Redis's clock: what happened before it is left out.
        try await Task.sleep(for: .seconds(3))
        #expect(try await cli.run(["submit", "jobq.noop", "--id", "s3"]).status == 0)
        #expect(try transitions(try await cli.run(["events", "--json", "--since", "2s"])) == ["s3 - PENDING 0 "])
    }

    @Test func followPrintsNewTransitionsUntilSIGINT() async throws {
        let cli = try await CLIHarness.make()
        try await seed(cli)
        let follower = try await cli.start(["events", "-f", "--json", "--run", "wf", "--limit", "1"])
        // The last one first, then what happens after the start.
        let deadline = ContinuousClock.now + .seconds(30)
        while !follower.stdout.contains(#""to":"FAILED""#) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(follower.process.isRunning, "\(follower.stderr)")
        try await cli.complete("wf/c", queue: "q1")
        #expect(try await cli.run(["submit", "jobq.noop", "--id", "elsewhere"]).status == 0)
        while !follower.stdout.contains(#""task":null,"run":"wf","key":null,"from":"RUNNING","to":"FAILED""#) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        follower.process.interrupt()
        let result = await follower.finish(timeout: .seconds(20))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        #expect(try transitions(result) == [
            "wf/b RUNNING FAILED 1 error",
            "wf/c PENDING RUNNING 1 ",
            "wf/c RUNNING DONE 1 ",
            "@wf RUNNING FAILED 0 ",
        ])
    }

    @Test func sigtermEndsAFollowerQuietly() async throws {
        let cli = try await CLIHarness.make()
        let follower = try await cli.start(["events", "--follow"])
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await cli.run(["submit", "jobq.noop", "--id", "t"]).status == 0)
        _ = await follower.firstOutput()
        follower.process.terminate()
        let result = await follower.finish(timeout: .seconds(20))
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result)")
        #expect(result.stdout.contains("t  (new) → PENDING  attempt 0"), "\(result.stdout)")
    }

    @Test func aClosedPipeEndsQuietly() async throws {
        let cli = try await CLIHarness.make()
        try await seed(cli)
        let pipe = BrokenPipeTests()
        // Without -f: all lines may be written before head exits (0) or not (141); quiet either way.
        let last = try await pipe.runIntoHead(cli, ["events", "--limit", "10000"])
        #expect(last.head.split(separator: "\n").count == 1)
        #expect(last.stderr.isEmpty && [0, Console.brokenPipeStatus].contains(last.status), "\(last)")
        // With -f and nothing new to print: it notices the closed pipe while it waits.
        let following = try await pipe.runIntoHead(cli, ["events", "-f", "--limit", "1"])
        #expect(following.head.hasSuffix("s2  PENDING → CANCELLED  attempt 0  cancelled  by ops\n"), "\(following.head)")
        #expect(following.stderr.isEmpty && following.status == Console.brokenPipeStatus, "\(following)")
    }

    @Test func badInputExits64WithItsCode() async throws {
        let cli = try await CLIHarness.make()
        for (arguments, code) in [
            (["--limit", "0"], "invalid_option"),
            (["--limit", "100000"], "invalid_option"),
            (["--since", "yesterday"], "invalid_option"),
            (["--since", "1700000000000"], "invalid_option"),
            (["--since", "-5m"], "invalid_option"),
            (["--limit", "-1"], "invalid_option"),
            (["--run", "no such run"], "invalid_name"),
            (["--task", "wf/b/c"], "invalid_name"),
            (["--queue", "q 1"], "invalid_name"),
        ] {
            let result = try await cli.run(["events", "--json"] + arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(try result.jsonError()["code"] as? String == code, "\(arguments)")
            #expect(result.stdout.isEmpty)
        }
        let text = try await cli.run(["events", "--limit", "0"])
        #expect(text.stderr.contains("--limit must be from 1 to 10000") && text.stderr.contains("[invalid_option]"), "\(text.stderr)")
    }
}

/// `jobq events -f` is a read and survives a Redis restart, as `wait` does.
@Suite("events -f survives a Redis restart", .enabled(if: redisAvailable), .serialized)
struct EventsRestartTests {
    @Test func followReconnectsAfterARestart() async throws {
        try await withRedisServer(extraConfig: ["appendonly yes"]) { server in
            let namespace = "events-restart"
            let cli = CLIHarness(server: server, namespace: namespace, coordinator: try Coordinator(redis: server.makeClient(), namespace: namespace))
            #expect(try await cli.run(["submit", "h", "--id", "before"]).status == 0)
            let follower = try await cli.start(["events", "-f"])
            _ = await follower.firstOutput()
            await server.kill()
            try await Task.sleep(for: .seconds(3))
            #expect(follower.process.isRunning, "events -f gave up while Redis was down: \(follower.stderr)")
            try await server.launch()
            #expect(try await cli.run(["submit", "h", "--id", "after"]).status == 0)
            let deadline = ContinuousClock.now + .seconds(30)
            while !follower.stdout.contains("after  (new) → PENDING") && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            follower.process.interrupt()
            let result = await follower.finish(timeout: .seconds(20))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.split(separator: "\n").map { String($0.dropFirst(25)) } == ["before  (new) → PENDING  attempt 0", "after  (new) → PENDING  attempt 0"], "\(result.stdout)")
            await cli.coordinator.redis.close()
        }
    }
}
