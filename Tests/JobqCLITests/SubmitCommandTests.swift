import Foundation
import JobqCore
import Testing

@Suite("jobq submit (one task)", .enabled(if: redisAvailable))
struct SubmitCommandTests {
    @Test func printsTheNewIDAndStoresTheTask() async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "jobq.echo", "--payload", #"{"b":1,"a":[1.50,true,null]}"#, "--queue", "q1", "--title", "Echo", "--retries", "4", "--timeout", "30s", "--id", "echo-1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.trimmedOutput == "echo-1")
        let info = try #require(try await cli.coordinator.tasks.task("echo-1"))
        #expect(info.handler == "jobq.echo")
        #expect(info.queue == "q1")
        #expect(info.title == "Echo")
        #expect(info.maxAttempts == 5)
        #expect(info.timeout == .seconds(30))
        #expect(info.state == .pending)
        // The payload is kept as written: key order and number text unchanged.
        #expect(String(decoding: info.payload, as: UTF8.self) == #"{"b":1,"a":[1.50,true,null]}"#)
    }

    @Test func generatesAnIDAndReportsJSON() async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "jobq.noop", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try result.json()
        let id = try #require(json["id"] as? String)
        #expect(id.count == 26)
        #expect(json["state"] as? String == "PENDING")
        #expect(json["created"] as? Bool == true)
        #expect(json["workflow"] is NSNull)
        #expect(try await cli.state(id) == .pending)
    }

    @Test func readsThePayloadFromAFileAndFromStdin() async throws {
        let cli = try await CLIHarness.make()
        let path = try CLIHarness.temporaryFile("payload.json", "{\n  \"from\": \"file\"\n}\n")
        let fromFile = try await cli.run(["submit", "jobq.echo", "--payload", "@" + path, "--id", "f"])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(try await cli.coordinator.tasks.task("f")?.payload == Array(#"{"from":"file"}"#.utf8))
        let fromStdin = try await cli.run(["submit", "jobq.echo", "--payload", "-", "--id", "s"], stdin: #"[1, 2, "three"]"#)
        #expect(fromStdin.status == 0, "\(fromStdin.stderr)")
        #expect(try await cli.coordinator.tasks.task("s")?.payload == Array(#"[1,2,"three"]"#.utf8))
    }

    @Test func afterAndPolicies() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "jobq.noop", "--id", "a"])
        _ = try await cli.run(["submit", "jobq.noop", "--id", "b"])
        let result = try await cli.run(["submit", "jobq.echo", "--id", "c", "--after", "a", "--after", "b:always", "--payload", #"{"in":{"$retval":"a"}}"#])
        #expect(result.status == 0, "\(result.stderr)")
        let info = try #require(try await cli.coordinator.tasks.task("c"))
        #expect(info.prerequisites == [Prerequisite("a"), Prerequisite("b", policy: .always)])
        #expect(info.unresolvedPrerequisites == 2)
    }

    @Test func idempotencyKeyReturnsTheFirstSubmission() async throws {
        let cli = try await CLIHarness.make()
        let first = try await cli.run(["submit", "jobq.noop", "--key", "k1", "--json"])
        let second = try await cli.run(["submit", "jobq.noop", "--key", "k1", "--json"])
        #expect(first.status == 0 && second.status == 0)
        #expect(try second.json()["id"] as? String == (try first.json()["id"] as? String))
        #expect(try second.json()["created"] as? Bool == false)
        let conflict = try await cli.run(["submit", "jobq.echo", "--key", "k1"])
        #expect(conflict.status == 64)
        #expect(conflict.stderr.contains("[idempotency_conflict]"))
    }

    // MARK: Bad input: a clear message, exit 64, nothing written

    @Test func invalidJSONPayloadIsRefusedWithItsPosition() async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "jobq.echo", "--payload", "{\"a\": 1,\n \"b\": }"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("[invalid_payload]"))
        #expect(result.stderr.contains("line 2, column 7"))
        #expect(result.stdout.isEmpty)
        #expect(try await cli.keysInNamespace().isEmpty)

        let json = try await cli.run(["submit", "jobq.echo", "--payload", "hello", "--json"])
        #expect(json.status == 64)
        let error = try json.jsonError()
        #expect(error["code"] as? String == "invalid_payload")
        #expect((error["message"] as? String)?.contains("must be quoted") == true)
        #expect(error["exit_code"] as? Int == 64)
    }

    @Test func oversizedPayloadIsRefused() async throws {
        let cli = try await CLIHarness.make()
        let big = "\"" + String(repeating: "x", count: (1 << 20) + 10) + "\""
        let path = try CLIHarness.temporaryFile("big.json", big)
        let result = try await cli.run(["submit", "jobq.echo", "--payload", "@" + path, "--json"])
        #expect(result.status == 64)
        #expect(try result.jsonError()["code"] as? String == "payload_too_large")
        #expect(try await cli.keysInNamespace().isEmpty)
    }

    @Test(arguments: [
        (["submit", "bad handler!"], "invalid_name"),
        (["submit", "jobq.echo", "--id", "has:colon"], "invalid_name"),
        (["submit", "jobq.echo", "--queue", "{q}"], "invalid_name"),
        (["submit", "jobq.echo", "--after", "missing-task"], "unknown_dependency"),
        (["submit", "jobq.echo", "--after", "x:sometimes"], "invalid_option"),
        (["submit", "jobq.echo", "--max-attempts", "0"], "invalid_option"),
        (["submit", "jobq.echo", "--backoff", "linear 3s"], "invalid_option"),
        (["submit", "jobq.echo", "--payload", #"{"$retval":"other"}"#], "invalid_reference"),
    ])
    func badInputIsRefusedAndNothingIsWritten(arguments: [String], code: String) async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(arguments + ["--json"])
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(try result.jsonError()["code"] as? String == code, "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(try await cli.keysInNamespace().isEmpty, "\(arguments)")
    }

    @Test func usageErrorsExit64WithArgumentParserMessages() async throws {
        let cli = try await CLIHarness.make()
        let missing = try await cli.run(["submit"])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("give a handler"))
        let both = try await cli.run(["submit", "jobq.echo", "--retries", "1", "--max-attempts", "2"])
        #expect(both.status == 64)
        let badDuration = try await cli.run(["submit", "jobq.echo", "--timeout", "soon"])
        #expect(badDuration.status == 64)
        #expect(try await cli.keysInNamespace().isEmpty)
    }

    @Test func humanErrorNamesTheCodeOnStderr() async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "jobq.echo", "--id", "bad id"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("jobq: error: "))
        #expect(result.stderr.contains("use only letters, digits"))
        #expect(result.stderr.contains("[invalid_name]"))
    }
}
