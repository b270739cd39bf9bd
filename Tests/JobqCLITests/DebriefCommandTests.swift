import Foundation
import JobqCore
import Testing

/// `jobq debrief`: failed and cancelled tasks with their errors and attempt histories, dependency
/// cancellations collapsed by root cause, recovered tasks, and the exit status.
@Suite("CLI: debrief", .enabled(if: redisAvailable))
struct DebriefCommandTests {
    /// Claims `id` as `worker` (handing back anything else the claim took).
    func claim(_ cli: CLIHarness, _ id: String, worker: String) async throws -> TaskLease {
        for _ in 0..<50 {
            let claimed = try await cli.coordinator.leases.claim(queues: ["default"], count: 100, lease: .seconds(60), worker: worker)
            let others = claimed.filter { $0.id != id }
            if !others.isEmpty {
                _ = try await cli.coordinator.leases.fail(others.map { Failure(lease: $0.lease, mode: .handBack, reason: "test", message: "") })
            }
            if let task = claimed.first(where: { $0.id == id }) { return task.lease }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw DebriefTestError.neverClaimable(id)
    }

    func fail(_ cli: CLIHarness, _ id: String, worker: String, message: String) async throws {
        let lease = try await claim(cli, id, worker: worker)
        _ = try await cli.coordinator.leases.fail([Failure(lease: lease, mode: .retry(delay: .zero), reason: "error", message: message)])
    }

    func complete(_ cli: CLIHarness, _ id: String, worker: String) async throws {
        let lease = try await claim(cli, id, worker: worker)
        #expect(try await cli.coordinator.leases.complete([Completion(lease: lease, result: Array("null".utf8))]) == [.done])
    }

    /// fetch fails twice (two workers) and takes down parse → summarize and report; flaky
    /// recovers on its second attempt; cleanup is cancelled by request; ok just succeeds.
    func seed(_ cli: CLIHarness) async throws {
        let path = try CLIHarness.temporaryFile("nightly.yaml", """
            workflow: nightly
            tasks:
              - {id: fetch, handler: jobq.fail, title: Fetch the data, retries: 1}
              - {id: parse, handler: jobq.noop, after: [fetch]}
              - {id: summarize, handler: jobq.noop, after: [parse]}
              - {id: report, handler: jobq.noop, after: [fetch]}
              - {id: flaky, handler: jobq.noop, retries: 2}
              - {id: ok, handler: jobq.noop}
              - {id: cleanup, handler: jobq.noop, after: [ok, flaky, report]}
            """)
        let submitted = try await cli.run(["submit", "-f", path, "--run", "nightly"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        _ = try await cli.run(["cancel", "nightly/cleanup", "--message", "not needed tonight"])
        try await fail(cli, "nightly/fetch", worker: "worker-a", message: "ConnectionError: upstream timed out\nat line 3")
        try await fail(cli, "nightly/fetch", worker: "worker-b", message: "ConnectionError: refused")
        try await fail(cli, "nightly/flaky", worker: "worker-a", message: "transient")
        try await complete(cli, "nightly/flaky", worker: "worker-c")
        try await complete(cli, "nightly/ok", worker: "worker-c")
    }

    @Test func debriefOfAWorkflowInText() async throws {
        let cli = try await CLIHarness.make()
        try await seed(cli)
        let result = try await cli.run(["debrief", "--workflow", "nightly"])
        #expect(result.status == 1, "something failed: exit 1 as for wait\n\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "nightly: 1 failed, 1 cancelled, 3 cancelled (dependency), 1 recovered after retries", "\(result.stdout)")
        #expect(result.stdout.contains("FAILED  fetch  \"Fetch the data\""))
        #expect(result.stdout.contains("ConnectionError: refused"))
        // Both attempts, with their workers and their own errors (first line of each).
        let first = try #require(lines.firstIndex { $0.contains("#1") && $0.contains("worker-a") && $0.contains("failed, retried (error)") }, "\(result.stdout)")
        #expect(lines[first + 1].trimmingCharacters(in: .whitespaces) == "ConnectionError: upstream timed out", "the first line of its own error")
        let second = try #require(lines.firstIndex { $0.contains("#2") && $0.contains("worker-b") && $0.contains("failed (error)") })
        #expect(lines[second + 1].trimmingCharacters(in: .whitespaces) == "ConnectionError: refused")
        #expect(result.stdout.contains("took down 3 dependent tasks"))
        // Collapsed: one line for the three, by root cause (summarize's own cause is parse).
        #expect(lines.contains { $0.contains("3 tasks cancelled because fetch failed: parse, summarize, report") }, "\(result.stdout)")
        #expect(!lines.contains { $0.hasPrefix("CANCELLED  parse") })
        #expect(result.stdout.contains("CANCELLED  cleanup"))
        #expect(result.stdout.contains("not needed tonight"))
        #expect(result.stdout.contains("never started"))
        #expect(result.stdout.contains("Recovered after retries"))
        #expect(lines.contains { $0.contains("flaky") && $0.contains("DONE after 1 unsuccessful attempt") })
        #expect(!lines.contains { $0.contains("  ok  ") }, "a hand-back is not a failure: ok did not recover from anything")
        #expect(lines.dropFirst().allSatisfy { $0.count <= 80 }, "the summary line is never cut; the rest fits 80 columns")
        #expect(!result.stdout.contains("\u{1B}["))
    }

    @Test func debriefJSON() async throws {
        let cli = try await CLIHarness.make()
        try await seed(cli)
        let result = try await cli.run(["debrief", "--workflow", "nightly", "--json"])
        #expect(result.status == 1)
        let json = try result.json()
        #expect(json["workflow"] as? String == "nightly")
        let counts = try #require(json["counts"] as? [String: Int])
        #expect(counts == ["tasks": 7, "failed": 1, "cancelled": 1, "cancelled_dependency": 3, "recovered": 1, "unfinished": 0])
        let problems = try #require(json["problems"] as? [[String: Any]])
        #expect(problems.map { $0["id"] as? String } == ["nightly/fetch", "nightly/cleanup"])
        let history = try #require(problems[0]["attempt_history"] as? [[String: Any]])
        #expect(history.map { $0["outcome"] as? String } == ["retried", "failed"])
        #expect(history.map { $0["worker"] as? String } == ["worker-a", "worker-b"])
        #expect(history.map { $0["charged"] as? Bool } == [true, true])
        #expect((history[0]["error"] as? String)?.hasPrefix("ConnectionError: upstream timed out") == true)
        #expect(history[0]["duration_ms"] is Int && history[0]["started_at"] is String)
        #expect(problems[0]["took_down"] as? Int == 3)
        #expect((problems[1]["attempt_history"] as? [Any])?.isEmpty == true)
        let groups = try #require(json["cancelled_by_dependency"] as? [[String: Any]])
        #expect(groups.count == 1)
        #expect(groups[0]["cause"] as? String == "nightly/fetch" && groups[0]["cause_state"] as? String == "FAILED")
        #expect(groups[0]["count"] as? Int == 3)
        #expect(groups[0]["ids"] as? [String] == ["nightly/parse", "nightly/summarize", "nightly/report"])
        let recovered = try #require(json["recovered"] as? [[String: Any]])
        #expect(recovered.map { $0["id"] as? String } == ["nightly/flaky"])
        // The hand-backs of the test's own claims are in the history too, uncharged.
        let flaky = try #require(recovered[0]["attempt_history"] as? [[String: Any]])
        #expect(flaky.compactMap { $0["outcome"] as? String }.filter { $0 != "handed_back" } == ["retried", "done"])
        #expect(flaky.filter { $0["outcome"] as? String == "handed_back" }.allSatisfy { $0["charged"] as? Bool == false })
    }

    @Test func exitStatusAndBadInput() async throws {
        let cli = try await CLIHarness.make()
        try await seed(cli)
        let fine = try await cli.run(["debrief", "nightly/ok", "nightly/flaky"])
        #expect(fine.status == 0, "only a recovered task: nothing failed\n\(fine.stderr)")
        #expect(fine.stdout.hasPrefix("2 tasks: 1 recovered after retries"))
        let clean = try await cli.run(["debrief", "nightly/ok"])
        #expect(clean.status == 0 && clean.trimmedOutput == "nightly/ok: nothing failed (1 task)")
        let failed = try await cli.run(["debrief", "nightly/fetch", "--json"])
        #expect(failed.status == 1)
        #expect(try failed.json()["summary"] as? String == "nightly/fetch: 1 failed")
        let missing = try await cli.run(["debrief", "nightly/ok", "nope", "--json"])
        #expect(missing.status == 66)
        #expect(try missing.jsonError()["code"] as? String == "not_found")
        #expect(try await cli.run(["debrief", "--workflow", "nope"]).status == 66)
        #expect(try await cli.run(["debrief"]).status == 64)
        #expect(try await cli.run(["debrief", "nightly/ok", "--workflow", "nightly"]).status == 64)
        #expect(try await cli.run(["debrief", "bad id!"]).status == 64)
    }

    /// `status ID` shows the last attempts; `--json` carries the whole history.
    @Test func statusShowsTheAttemptHistory() async throws {
        let cli = try await CLIHarness.make()
        try await seed(cli)
        let human = try await cli.run(["status", "nightly/fetch"])
        #expect(human.status == 0)
        let lines = human.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("history") && $0.contains("#1") && $0.contains("worker-a") }, "\(human.stdout)")
        #expect(lines.contains { $0.contains("#2") && $0.contains("worker-b") })
        #expect(lines.allSatisfy { $0.count <= 80 })
        let json = try await cli.run(["status", "nightly/flaky", "--json"]).json()
        #expect(json["attempts"] as? Int == 2, "the count keeps its name")
        #expect((json["attempt_history"] as? [[String: Any]])?.compactMap { $0["outcome"] as? String }.filter { $0 != "handed_back" } == ["retried", "done"])
        #expect(json["attempt_history_malformed"] as? Int == 0)
    }
}

enum DebriefTestError: Error {
    case neverClaimable(String)
}
