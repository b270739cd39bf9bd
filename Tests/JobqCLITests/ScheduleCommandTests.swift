import Foundation
import JobqCore
import Testing

/// `jobq schedule add|pause|resume|remove|trigger` and `jobq schedules`, against Redis.
@Suite("schedule commands", .enabled(if: redisAvailable))
struct ScheduleCommandTests {
    static func schedules(_ cli: CLIHarness) async throws -> [[String: Any]] {
        let listed = try await cli.run(["schedules", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        return try listed.json()["schedules"] as? [[String: Any]] ?? []
    }

    @Test func addFromAFileAndFromAHandlerThenList() async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("nightly.yaml", """
            workflow: nightly
            window: 1
            tasks:
              - {id: fetch, handler: jobq.noop}
              - {id: load, handler: jobq.noop, after: [fetch]}
            """)
        let text = try await cli.run(["schedule", "add", "night", "--cron", "30 2 * * *", "--tz", "Europe/Paris", "-f", path])
        #expect(text.trimmedOutput.hasPrefix("schedule night: cron 30 2 * * * (Europe/Paris); first run at "), "\(text.stdout)")
        #expect(text.trimmedOutput.hasSuffix(":30:00 +01:00"), "\(text.stdout)")
        #expect(try await cli.run(["schedule", "remove", "night"]).status == 0)
        let file = try await cli.run(["schedule", "add", "nightly", "--cron", "30 2 * * *", "--tz", "Europe/Paris", "-f", path, "--json"])
        #expect(file.status == 0, "\(file.stderr)")
        let added = try file.json()
        #expect(added["name"] as? String == "nightly" && added["tz"] as? String == "Europe/Paris" && added["tasks"] as? Int == 2)
        #expect(added["definition"] as? String == "nightly" && added["overlap"] as? String == "skip" && added["catch_up"] as? String == "latest")
        let handler = try await cli.run(["schedule", "add", "beat", "--every", "1s", "jobq.noop", "--payload", #"{"n":1}"#, "--overlap", "allow"])
        #expect(handler.status == 0, "\(handler.stderr)")
        #expect(handler.trimmedOutput.hasPrefix("schedule beat: every 1s; first run at "), "\(handler.stdout)")

        // a tick fires through the maintenance pass (any worker or coordinator)
        try await Task.sleep(for: .milliseconds(1100))
        let runs = try await cli.coordinator.maintenance.fireDueSchedules()
        #expect(runs.count == 1 && runs[0].hasPrefix("beat-"), "\(runs)")
        #expect(try await cli.state(runs[0] + "/task") == .pending)

        let listed = try await Self.schedules(cli)
        #expect(listed.map { $0["name"] as? String } == ["beat", "nightly"])
        #expect(listed[0]["last_run"] as? String == runs[0] && listed[0]["last_run_state"] as? String == "PENDING")
        #expect(listed[0]["every_ms"] as? Int == 1000 && listed[0]["last_outcome"] as? String == "fired")
        #expect((listed[1]["next_fire"] as? String)?.hasSuffix(":30:00.000Z") == true)
        #expect(listed[1]["last_run"] is NSNull && listed[1]["paused"] as? Bool == false)
        let table = try await cli.run(["schedules"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("beat") && table.stdout.contains(runs[0]) && table.stdout.contains("nightly"), "\(table.stdout)")
    }

    /// `jobq coordinator` fires due schedules (with no worker running).
    @Test func theCoordinatorFiresDueTicks() async throws {
        let cli = try await CLIHarness.make()
        #expect(try await cli.run(["schedule", "add", "tick", "--every", "1s", "jobq.noop"]).status == 0)
        try await Task.sleep(for: .milliseconds(1100))
        let pass = try await cli.run(["coordinator", "--once", "--json"])
        #expect(pass.status == 0, "\(pass.stderr)")
        let runs = try pass.json()["scheduled_runs"] as? [String] ?? []
        #expect(runs.count == 1 && runs[0].hasPrefix("tick-"), "\(pass.stdout)")
        #expect(try await Self.schedules(cli).first?["last_run"] as? String == runs.first)
    }

    @Test func pauseResumeTriggerRemove() async throws {
        let cli = try await CLIHarness.make()
        #expect(try await cli.run(["schedule", "add", "s", "--cron", "@daily", "jobq.noop", "--overlap", "buffer"]).status == 0)
        #expect(try await Self.schedules(cli).first?["overlap"] as? String == "buffer")
        let paused = try await cli.run(["schedule", "pause", "s", "--json"])
        #expect(paused.status == 0, "\(paused.stderr)")
        #expect(try paused.json()["paused"] as? Bool == true)
        #expect(try await Self.schedules(cli).first?["paused"] as? Bool == true)
        #expect(try await cli.run(["schedule", "resume", "s"]).trimmedOutput == "schedule s: resumed")
        let trigger = try await cli.run(["schedule", "trigger", "s"])
        #expect(trigger.status == 0, "\(trigger.stderr)")
        let run = trigger.trimmedOutput
        #expect(run.hasPrefix("s-"))
        #expect(try await cli.state(run + "/task") == .pending)
        #expect(try await Self.schedules(cli).first?["last_outcome"] as? String == "triggered")
        #expect(try await cli.run(["schedule", "remove", "s"]).trimmedOutput == "schedule s: removed")
        #expect(try await Self.schedules(cli).isEmpty)
        for verb in ["remove", "pause", "resume", "trigger"] {
            let missing = try await cli.run(["schedule", verb, "s", "--json"])
            #expect(missing.status == 66, "\(verb): \(missing.stderr)")
            #expect(try missing.jsonError()["code"] as? String == "not_found")
        }
    }

    @Test func badSchedulesAreRefusedAndWriteNothing() async throws {
        let cli = try await CLIHarness.make()
        let cases: [([String], String)] = [
            (["--cron", "not a cron", "jobq.noop"], "invalid_schedule"),
            (["--cron", "0 0 30 2 *", "jobq.noop"], "invalid_schedule"),
            (["--cron", "@daily", "--tz", "Atlantis/Nowhere", "jobq.noop"], "invalid_schedule"),
            (["--every", "0", "jobq.noop"], "invalid_schedule"),
            (["--every", "500ms", "jobq.noop"], "invalid_schedule"),
            (["--every", "soon", "jobq.noop"], "invalid_schedule"),
            (["--cron", "@daily", "--every", "1m", "jobq.noop"], "invalid_schedule"),
            (["jobq.noop"], "invalid_schedule"),
            (["--every", "1m"], "invalid_option"),
            (["--every", "1m", "jobq.noop", "--overlap", "queue"], "invalid_option"),
            (["--every", "1m", "jobq.noop", "--catch-up", "some"], "invalid_option"),
            (["--every", "1m", "bad handler"], "invalid_name"),
        ]
        for (arguments, code) in cases {
            let result = try await cli.run(["schedule", "add", "s"] + arguments + ["--json"])
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(try result.jsonError()["code"] as? String == code, "\(arguments)")
        }
        let badName = try await cli.run(["schedule", "add", "no:colons", "--every", "1m", "jobq.noop", "--json"])
        #expect(badName.status == 64)
        #expect(try badName.jsonError()["code"] as? String == "invalid_name")
        #expect(try await cli.keysInNamespace().isEmpty)

        #expect(try await cli.run(["schedule", "add", "s", "--every", "1m", "jobq.noop"]).status == 0)
        let exists = try await cli.run(["schedule", "add", "s", "--every", "2m", "jobq.noop", "--json"])
        #expect(exists.status == 64, "\(exists.stderr)")
        #expect(try exists.jsonError()["code"] as? String == "schedule_exists")
        let replaced = try await cli.run(["schedule", "add", "s", "--every", "2m", "jobq.noop", "--replace", "--json"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try replaced.json()["every_ms"] as? Int == 120_000)
    }
}
