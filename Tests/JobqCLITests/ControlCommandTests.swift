import Foundation
import JobqCore
import Testing

@Suite("Control commands: cancel, retry, pause, resume, purge", .enabled(if: redisAvailable))
struct ControlCommandTests {
    /// A run `chain` (the file's definition is `chain` too): a -> b -> c, and tidy after c always.
    func chain(_ cli: CLIHarness, workflow: String = "chain") async throws {
        let path = try CLIHarness.temporaryFile("flow.yaml", """
            workflow: \(workflow)
            tasks:
              - {id: a, handler: h}
              - {id: b, handler: h, after: [a]}
              - {id: c, handler: h, after: [b]}
              - {id: tidy, handler: h, after: [{id: c, policy: always}]}
            """)
        let result = try await cli.run(["submit", "-f", path, "--run", workflow])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.trimmedOutput == workflow)
    }

    @Test func cancelAPendingTaskCancelsItsDependents() async throws {
        let cli = try await CLIHarness.make()
        try await chain(cli)
        let human = try await cli.run(["cancel", "chain/b"])
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.trimmedOutput == "chain/b: cancelled")
        #expect(try await cli.state("chain/b") == .cancelled)
        #expect(try await cli.state("chain/c") == .cancelled)
        #expect(try await cli.state("chain/a") == .pending)
        #expect(try await cli.state("chain/tidy") == .pending)

        let again = try await cli.run(["cancel", "chain/b", "--json"])
        #expect(again.status == 65)
        #expect(try again.jsonError()["code"] as? String == "invalid_state")
        let missing = try await cli.run(["cancel", "nope"])
        #expect(missing.status == 66)
        let missingInRun = try await cli.run(["cancel", "chain/nope"])
        #expect(missingInRun.status == 66)
        #expect(missingInRun.stderr.contains("run chain has no task nope"), "\(missingInRun.stderr)")
    }

    @Test func cancelARunningTaskRequestsIt() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "h", "--id", "r"])
        _ = try await cli.claim("r")
        let json = try await cli.run(["cancel", "r", "--json", "--message", "not needed"]).json()
        #expect(json["outcome"] as? String == "requested")
        let info = try #require(try await cli.coordinator.tasks.task("r"))
        #expect(info.cancelRequested)
        let repeated = try await cli.run(["cancel", "r", "--json"]).json()
        #expect(repeated["outcome"] as? String == "already_requested")
    }

    @Test func cancelAWorkflow() async throws {
        let cli = try await CLIHarness.make()
        try await chain(cli)
        // --workflow still names a run (the 0.1 spelling); `jobq cancel RUN` is in RunCommandTests.
        let json = try await cli.run(["cancel", "--workflow", "chain", "--json"]).json()
        #expect(json["workflow"] as? String == "chain")
        #expect(json["cancelled"] as? Int == 4)
        #expect(json["requested"] as? Int == 0)
        let status = try await cli.run(["status", "chain", "--json"]).json()
        #expect(status["summary"] as? String == "4C")
        let usage = try await cli.run(["cancel"])
        #expect(usage.status == 64)
    }

    @Test func retryReopensTheTaskAndItsDependents() async throws {
        let cli = try await CLIHarness.make()
        try await chain(cli)
        try await cli.failFinal("chain/a")
        #expect(try await cli.state("chain/c") == .cancelled)
        let json = try await cli.run(["retry", "chain/a", "--json"]).json()
        #expect(json["id"] as? String == "chain/a")
        #expect(Set(json["reopened"] as? [String] ?? []) == ["chain/a", "chain/b", "chain/c"])
        #expect(try await cli.state("chain/a") == .pending)
        #expect(try await cli.state("chain/c") == .pending)

        let notFailed = try await cli.run(["retry", "chain/a"])
        #expect(notFailed.status == 65)
        #expect(notFailed.stderr.contains("[invalid_state]"))
    }

    @Test func retryHumanOutput() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "h", "--id", "lonely", "--max-attempts", "1"])
        try await cli.failFinal("lonely")
        let human = try await cli.run(["retry", "lonely"])
        #expect(human.status == 0)
        #expect(human.trimmedOutput == "lonely: re-opened")
    }

    @Test func pauseAndResume() async throws {
        let cli = try await CLIHarness.make()
        let typo = try await cli.run(["pause", "mial"])
        #expect(typo.status == 66, "an unknown queue must be refused (not_found)")
        #expect(typo.stderr.contains("no queue mial"))
        #expect(typo.stderr.contains("[not_found]"))
        #expect(try await cli.coordinator.inspector.queues().isEmpty, "a refused pause wrote nothing")
        let resumeTypo = try await cli.run(["resume", "mial"])
        #expect(resumeTypo.status != 0)
        let paused = try await cli.run(["pause", "mail", "--new", "--json"]).json()
        #expect(paused["paused"] as? Bool == true)
        _ = try await cli.run(["submit", "h", "--queue", "mail", "--id", "m1"])
        #expect(try await cli.coordinator.inspector.queues().first { $0.name == "mail" }?.paused == true)
        let none = try await cli.coordinator.leases.claim(queues: ["mail"], count: 1, lease: .seconds(10), worker: "w")
        #expect(none.isEmpty, "claimed from a paused queue")
        let resumed = try await cli.run(["resume", "mail"])
        #expect(resumed.trimmedOutput == "queue mail: resumed")
        _ = try await cli.claim("m1", queue: "mail")
        let bad = try await cli.run(["pause", "bad queue"])
        #expect(bad.status == 64)
    }

    @Test func purgeFinishedDeletesOnlyFinishedRecords() async throws {
        let cli = try await CLIHarness.make()
        for id in ["done1", "done2", "failed1", "pending1", "running1"] {
            _ = try await cli.run(["submit", "h", "--id", id, "--max-attempts", "1"])
        }
        try await cli.complete("done1")
        try await cli.complete("done2")
        try await cli.failFinal("failed1")
        _ = try await cli.claim("running1")

        let dry = try await cli.run(["purge", "--finished", "--dry-run", "--json"]).json()
        #expect(dry["would_purge"] as? Int == 3)
        #expect(try await cli.coordinator.tasks.task("done1") != nil)

        let onlyFailed = try await cli.run(["purge", "--finished", "--state", "failed", "--json"]).json()
        #expect(onlyFailed["purged"] as? Int == 1)
        #expect(try await cli.coordinator.tasks.task("failed1") == nil)
        #expect(try await cli.coordinator.tasks.task("done1") != nil)

        let recent = try await cli.run(["purge", "--finished", "--older-than", "1h", "--json"]).json()
        #expect(recent["purged"] as? Int == 0)

        let human = try await cli.run(["purge", "--finished"])
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.trimmedOutput == "purged 2 finished task record(s)")
        #expect(try await cli.coordinator.tasks.task("done1") == nil)
        #expect(try await cli.coordinator.tasks.task("done2") == nil)
        #expect(try await cli.state("pending1") == .pending)
        #expect(try await cli.state("running1") == .running)
        let list = try await cli.run(["list", "--json"]).json()
        #expect(Set((list["tasks"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }) == ["pending1", "running1"])
        // No leftovers of the purged records.
        let keys = try await cli.keysInNamespace()
        #expect(!keys.contains { $0.contains(":t:done1") || $0.contains(":t:failed1") })
    }

    @Test func purgeQueueCancelsItsPendingTasks() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "h", "--id", "q1", "--queue", "junk"])
        _ = try await cli.run(["submit", "h", "--id", "q2", "--queue", "junk", "--delay", "1h"])
        _ = try await cli.run(["submit", "h", "--id", "q3", "--queue", "junk", "--after", "q1"])
        _ = try await cli.run(["submit", "h", "--id", "keep", "--queue", "other"])
        let dry = try await cli.run(["purge", "--queue", "junk", "--dry-run", "--json"]).json()
        #expect(dry["would_cancel"] as? Int == 3)
        #expect(try await cli.state("q1") == .pending)
        let json = try await cli.run(["purge", "--queue", "junk", "--json"]).json()
        #expect((json["cancelled"] as? Int ?? 0) >= 2)  // q3 may go down with q1 first
        for id in ["q1", "q2", "q3"] { #expect(try await cli.state(id) == .cancelled) }
        #expect(try await cli.state("keep") == .pending)
    }

    @Test func purgeNeedsExactlyOneMode() async throws {
        let cli = try await CLIHarness.make()
        #expect(try await cli.run(["purge"]).status == 64)
        #expect(try await cli.run(["purge", "--finished", "--queue", "x"]).status == 64)
        #expect(try await cli.run(["purge", "--finished", "--state", "pending"]).status == 64)
    }
}
