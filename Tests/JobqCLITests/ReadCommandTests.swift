import Foundation
import JobqCore
import Testing

@Suite("Read commands: status, list, result, logs, stats, queues, workers", .enabled(if: redisAvailable))
struct ReadCommandTests {
    /// A run `wf`: a -> b, a -> c -> d, with `wf/a` DONE, `wf/b` FAILED (so nothing depends on it here) and `wf/c` PENDING.
    func seedWorkflow(_ cli: CLIHarness) async throws {
        let path = try CLIHarness.temporaryFile("flow.yaml", """
            workflow: wf
            tasks:
              - {id: a, handler: jobq.echo, title: First, payload: {n: 1}}
              - {id: b, handler: jobq.fail, after: [a], retries: 0}
              - {id: c, handler: jobq.noop, after: [a]}
              - {id: d, handler: jobq.noop, after: [c]}
            """)
        let submitted = try await cli.run(["submit", "-f", path, "--run", "wf"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        try await cli.complete("wf/a", result: #"{"rows":3}"#)
        try await cli.failFinal("wf/b", message: "boom: disk full")
    }

    @Test func statusOfATask() async throws {
        let cli = try await CLIHarness.make()
        try await seedWorkflow(cli)
        let human = try await cli.run(["status", "wf/b"])
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.stdout.contains("FAILED"))
        #expect(human.stdout.contains("boom: disk full"))
        #expect(human.stdout.contains("wf/a (DONE)"), "\(human.stdout)")
        #expect(human.stdout.contains("attempts   1 of 1"))
        #expect(human.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 })
        #expect(!human.stdout.contains("\u{1B}["), "colours when not on a terminal")

        let json = try await cli.run(["status", "wf/a", "--json"]).json()
        #expect(json["id"] as? String == "wf/a")
        #expect(json["state"] as? String == "DONE")
        #expect(json["title"] as? String == "First")
        #expect(json["workflow"] as? String == "wf")
        #expect(json["attempts"] as? Int == 1)
        #expect((json["result"] as? [String: Any])?["rows"] as? Int == 3)
        #expect((json["payload"] as? [String: Any])?["n"] as? Int == 1)
        #expect(json["created_at"] is String)
        #expect(json["finished_at"] is String)
        for key in ["reason", "error", "prerequisites", "progress", "max_attempts", "timeout_ms", "result_ttl_ms", "skipped", "cancel_requested", "unresolved_prerequisites"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        let b = try await cli.run(["status", "wf/b", "--json"]).json()
        #expect(b["error"] as? String == "boom: disk full")
        let prerequisites = try #require(b["prerequisites"] as? [[String: Any]])
        #expect(prerequisites.first?["id"] as? String == "wf/a")
        #expect(prerequisites.first?["state"] as? String == "DONE")
        #expect(prerequisites.first?["policy"] as? String == "success")
        #expect(b["result"] is NSNull)
    }

    /// A task taken back from dead workers says so everywhere: the record's counters in
    /// `--json`, the worker deaths in `status`, and where it waits in `watch`.
    @Test func statusShowsWorkerDeathsAndQuarantine() async throws {
        let cli = try await CLIHarness.make()
        #expect(try await cli.run(["submit", "jobq.noop", "--id", "victim"]).status == 0)
        for worker in ["dead1", "dead2"] {
            _ = try await cli.coordinator.leases.claim(queues: ["default"], count: 1, lease: .milliseconds(50), worker: worker)
            try await Task.sleep(for: .milliseconds(120))
            #expect(try await cli.coordinator.maintenance.reap().map(\.id) == ["victim"])
            let json = try await cli.run(["status", "victim", "--json"]).json()
            #expect(json["state"] as? String == "PENDING")
            #expect(json["attempts"] as? Int == 0, "a death beside nothing proven is not charged")
            #expect(json["worker_deaths"] as? Int == (worker == "dead1" ? 1 : 2))
            #expect(json["suspect_level"] as? Int == (worker == "dead1" ? 1 : 2))
        }
        let human = try await cli.run(["status", "victim"])
        #expect(human.stdout.contains("worker deaths: 2 (quarantined: runs alone)"), "\(human.stdout)")
        let watch = try await cli.run(["watch", "victim", "--timeout", "1s"])
        #expect(watch.stdout.contains("quarantined: runs alone on an idle worker"), "\(watch.stdout)")
    }

    @Test func statusOfAWorkflowHasTheSummaryLine() async throws {
        let cli = try await CLIHarness.make()
        try await seedWorkflow(cli)
        let human = try await cli.run(["status", "wf"])
        #expect(human.status == 0, "\(human.stderr)")
        let lines = human.stdout.split(separator: "\n")
        // A run's headline: its id, its own state, the summary line and its definition.
        #expect(lines.first?.hasPrefix("wf  RUNNING  1D + 2P + 1F = 4  definition wf") == true, "\(human.stdout)")
        // Rows are named by key within the run.
        #expect(lines.dropFirst(2).map { $0.split(separator: " ").first.map(String.init) } == ["a", "b", "c", "d"], "\(human.stdout)")
        #expect(human.stdout.contains("waiting for c"), "named by its key within the run: \(human.stdout)")
        #expect(human.stdout.contains("boom: disk full"))
        #expect(lines.allSatisfy { $0.count <= 80 })

        let json = try await cli.run(["status", "wf", "--json"]).json()
        #expect(json["workflow"] as? String == "wf")
        #expect(json["summary"] as? String == "1D + 2P + 1F")
        #expect(json["total"] as? Int == 4)
        #expect(json["finished"] as? Bool == false)
        #expect(json["succeeded"] as? Bool == false)
        let counts = try #require(json["counts"] as? [String: Int])
        #expect(counts == ["pending": 2, "running": 0, "done": 1, "failed": 1, "cancelled": 0, "skipped": 0])
        let tasks = try #require(json["tasks"] as? [[String: Any]])
        #expect(tasks.map { $0["id"] as? String } == ["wf/a", "wf/b", "wf/c", "wf/d"])
        #expect(tasks.map { $0["state"] as? String } == ["DONE", "FAILED", "PENDING", "PENDING"])
    }

    @Test func statusOfSomethingUnknownExits66() async throws {
        let cli = try await CLIHarness.make()
        let human = try await cli.run(["status", "nothing-here"])
        #expect(human.status == 66)
        #expect(human.stderr.contains("[not_found]"))
        #expect(human.stderr.contains("jobq list"))
        let invalid = try await cli.run(["status", "bad:id", "--json"])
        #expect(invalid.status == 64)
        #expect(try invalid.jsonError()["code"] as? String == "invalid_name")
    }

    @Test func listWithFilters() async throws {
        let cli = try await CLIHarness.make()
        try await seedWorkflow(cli)
        _ = try await cli.run(["submit", "jobq.noop", "--id", "solo", "--queue", "other"])

        let all = try await cli.run(["list", "--json"]).json()
        let allIDs = Set((all["tasks"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
        #expect(allIDs == ["wf/a", "wf/b", "wf/c", "wf/d", "solo"])
        #expect(all["count"] as? Int == 5)

        let failed = try await cli.run(["list", "--state", "failed", "--json"]).json()
        #expect((failed["tasks"] as? [[String: Any]])?.map { $0["id"] as? String } == ["wf/b"])

        let queue = try await cli.run(["list", "--queue", "other", "--json"]).json()
        #expect((queue["tasks"] as? [[String: Any]])?.map { $0["id"] as? String } == ["solo"])

        let workflow = try await cli.run(["list", "--workflow", "wf", "--limit", "2", "--json"]).json()
        #expect((workflow["tasks"] as? [[String: Any]])?.map { $0["id"] as? String } == ["wf/a", "wf/b"])

        let human = try await cli.run(["list", "--workflow", "wf"])
        #expect(human.status == 0)
        #expect(human.stdout.hasPrefix("ID"))
        #expect(human.stdout.contains("jobq.echo"))
        #expect(human.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 })

        let none = try await cli.run(["list", "--state", "running"])
        #expect(none.stdout.contains("no tasks in state RUNNING"))
        let badState = try await cli.run(["list", "--state", "sleeping"])
        #expect(badState.status == 64)
    }

    @Test func resultOfDoneAndOfUnfinishedTasks() async throws {
        let cli = try await CLIHarness.make()
        try await seedWorkflow(cli)
        let done = try await cli.run(["result", "wf/a"])
        #expect(done.status == 0)
        #expect(done.trimmedOutput == #"{"rows":3}"#)
        let pretty = try await cli.run(["result", "wf/a", "--pretty"])
        #expect(pretty.trimmedOutput == "{\n  \"rows\": 3\n}")
        let failed = try await cli.run(["result", "wf/b", "--json"])
        #expect(failed.status == 65)
        let error = try failed.jsonError()
        #expect(error["code"] as? String == "invalid_state")
        #expect((error["message"] as? String)?.contains("FAILED") == true)
        #expect((error["message"] as? String)?.contains("jobq retry wf/b") == true)
        let pending = try await cli.run(["result", "wf/c"])
        #expect(pending.status == 65)
        #expect(pending.stderr.contains("jobq wait wf/c"))
        let missing = try await cli.run(["result", "zzz"])
        #expect(missing.status == 66)
        let missingInRun = try await cli.run(["result", "wf/zzz"])
        #expect(missingInRun.status == 66)
    }

    @Test func logsOfATask() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "jobq.echo", "--id", "t"])
        let lease = try await cli.claim("t")
        _ = try await cli.coordinator.leases.report(lease, progress: [ProgressEntry(current: 1, total: 4, status: "step 1")], log: ["first line", "second line"])
        let human = try await cli.run(["logs", "t"])
        #expect(human.status == 0)
        #expect(human.stdout == "first line\nsecond line\n")
        let tail = try await cli.run(["logs", "t", "--tail", "1"])
        #expect(tail.stdout == "second line\n")
        let json = try await cli.run(["logs", "t", "--json"]).json()
        #expect(json["lines"] as? [String] == ["first line", "second line"])
        #expect(json["state"] as? String == "RUNNING")

        // Progress shows in status while running.
        let status = try await cli.run(["status", "t", "--json"]).json()
        let progress = try #require(status["progress"] as? [[String: Any]])
        #expect(progress.first?["current"] as? Int == 1)
        #expect(progress.first?["total"] as? Int == 4)
        #expect(progress.first?["status"] as? String == "step 1")

        // Follow: ends once the task has finished, after printing what came meanwhile.
        let follower = try await cli.start(["logs", "t", "-f", "--interval", "100ms"])
        try await Task.sleep(for: .milliseconds(300))
        _ = try await cli.coordinator.leases.report(lease, log: ["third line"])
        try await Task.sleep(for: .milliseconds(300))
        _ = try await cli.coordinator.leases.complete([Completion(lease: lease, result: Array("1".utf8))])
        let output = try await waitForExit(follower, timeout: .seconds(20))
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout == "first line\nsecond line\nthird line\n")
    }

    @Test func statsQueuesAndWorkers() async throws {
        let cli = try await CLIHarness.make()
        try await seedWorkflow(cli)
        _ = try await cli.run(["submit", "jobq.noop", "--queue", "reports"])

        let stats = try await cli.run(["stats", "--json"]).json()
        let tasks = try #require(stats["tasks"] as? [String: Int])
        #expect(tasks["done"] == 1)
        #expect(tasks["failed"] == 1)
        #expect(tasks["pending"] == 3)
        let counters = try #require(stats["counters"] as? [String: Int])
        #expect(counters["submitted"] == 5)
        #expect(stats["namespace"] as? String == cli.namespace)
        let humanStats = try await cli.run(["stats"])
        #expect(humanStats.stdout.contains("submitted"))
        #expect(humanStats.stdout.contains("PENDING"))

        _ = try await cli.run(["pause", "reports"])
        let queues = try await cli.run(["queues", "--json"]).json()
        let list = try #require(queues["queues"] as? [[String: Any]])
        let reports = try #require(list.first { $0["name"] as? String == "reports" })
        #expect(reports["paused"] as? Bool == true)
        #expect(reports["ready"] as? Int == 1)
        let humanQueues = try await cli.run(["queues"])
        #expect(humanQueues.stdout.contains("paused"))

        let noWorkers = try await cli.run(["workers"])
        #expect(noWorkers.stdout.contains("no workers alive"))
        try await cli.coordinator.leases.register(
            worker: WorkerInfo(id: "w-1", host: "box", pid: 4242, queues: ["default", "reports"], concurrency: 4, running: ["wf/c"]),
            ttl: .seconds(30)
        )
        let workers = try await cli.run(["workers", "--json"]).json()
        let first = try #require((workers["workers"] as? [[String: Any]])?.first)
        #expect(first["id"] as? String == "w-1")
        #expect(first["pid"] as? Int == 4242)
        #expect(first["running"] as? [String] == ["wf/c"])
        #expect(first["queues"] as? [String] == ["default", "reports"])
        #expect(first["concurrency"] as? Int == 4)
        let humanWorkers = try await cli.run(["workers"])
        #expect(humanWorkers.stdout.contains("w-1"))
        #expect(humanWorkers.stdout.contains("1/4"))
    }
}

/// Waits (bounded) for a process started with ``CLIHarness/start(_:)`` and collects its output.
func waitForExit(_ running: RunningCLI, timeout: Duration) async throws -> CLIResult {
    await running.finish(timeout: timeout)
}
