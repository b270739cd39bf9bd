import Foundation
import JobqCore
import Testing

@testable import JobqCLI

/// `expires:` in workflow files (per task, or for all in `defaults:`), parsed in-process: what it
/// gives, and each rejection with its stable code and place.
@Suite("Workflow file format: expires")
struct ExpiryFileTests: WorkflowFileParsing {
    @Test func expiresIsATaskKeyAndADefault() throws {
        let inADay = ISO8601DateFormatter().string(from: Date().addingTimeInterval(24 * 3600))
        let file = try parse("""
            defaults:
              expires: 1h
            tasks:
              - {id: a, handler: h}
              - {id: b, handler: h, expires: 10m}
              - {id: c, handler: h, expires: "\(inADay)"}
            """)
        #expect(file.entries.map(\.spec.expires) == [.after(.seconds(3600)), .after(.seconds(600)), .at(ISO8601DateFormatter().date(from: inADay)!)])
        #expect(try parse("tasks:\n  - {id: a, handler: h}\n").entries[0].spec.expires == nil)
    }

    /// A sub-workflow's tasks keep theirs through the request the worker submits (a duration then
    /// counts from the child run's start).
    @Test func aSubWorkflowsTasksKeepTheirExpiry() throws {
        let request = try ChildRunRequest(definition: "c", tasks: [
            TaskSpec(id: "a", handler: "h", expires: .after(.seconds(60))), TaskSpec(id: "b", handler: "h"),
        ])
        let decoded = try ChildRunRequest.decode(try request.encoded())
        #expect(try decoded.submission(id: "r").tasks.map(\.expires) == [.after(.seconds(60)), nil])
    }

    @Test(arguments: [
        ("expires: 0s", "`expires` must be after the submission", JobqError.Code.invalidOption),
        ("expires: -5s", "is neither a duration", .invalidOption),
        ("expires: 400d", "`expires` is at most 366d away", .invalidOption),
        ("expires: 2001-01-01T00:00:00Z", "has passed", .invalidOption),
        ("expires: soonish", "`expires` \"soonish\" is neither a duration", .invalidOption),
        ("expires: [10m]", "`expires` must be a duration (30m) or a time", .invalidOption),
    ])
    func badExpiriesAreRefusedWithTheirPlace(line: String, message: String, code: JobqError.Code) {
        expectRefused("tasks:\n  - id: a\n    handler: h\n    \(line)\n", code: code, message: message, place: "flow.yaml:4:14: task \"a\"")
        expectRefused("defaults:\n  \(line)\ntasks:\n  - {id: a, handler: h}\n", code: code, message: message, place: "flow.yaml:2:12:")
    }
}

/// `jobq submit --expires` (one task; its refusals are among SubmitNumericOptionTests'): a task
/// with an expiry shows it in `status` until it expires, and the reason after.
@Suite("jobq submit --expires", .enabled(if: redisAvailable))
struct SubmitExpiresTests {
    @Test func itAppliesToOneTaskNotToAFile() async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("flow.yaml", "tasks:\n  - {id: a, handler: jobq.noop}\n")
        let result = try await cli.run(["submit", "-f", path, "--expires", "10m"])
        #expect(result.status == 64 && result.stderr.contains("--expires applies to one task"), "\(result.stderr)")
    }

    @Test func statusShowsTheExpiryThenTheReason() async throws {
        let cli = try await CLIHarness.make()
        let submitted = try await cli.run(["submit", "jobq.noop", "--id", "soon", "--expires", "10m"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let status = try await cli.run(["status", "soon"])
        #expect(status.stdout.contains("expires") && (status.stdout.contains("in 9m") || status.stdout.contains("in 10m")), "\(status.stdout)")
        let json = try await cli.run(["status", "soon", "--json"]).json()
        #expect((json["expires_at"] as? String)?.hasSuffix("Z") == true, "\(json)")

        // one that expires at once: the maintenance pass ends it
        #expect(try await cli.run(["submit", "jobq.noop", "--id", "gone", "--expires", "1ms"]).status == 0)
        try await Task.sleep(for: .milliseconds(20))
        let pass = try await cli.run(["coordinator", "--once", "--json"]).json()
        #expect(pass["expired"] as? Int == 1, "\(pass)")
        let ended = try await cli.run(["status", "gone"])
        #expect(ended.stdout.contains("CANCELLED") && ended.stdout.contains("(reason: expired)") && !ended.stdout.contains("expires "), "\(ended.stdout)")
        #expect(try await cli.run(["status", "gone", "--json"]).json()["reason"] as? String == "expired")
    }
}
