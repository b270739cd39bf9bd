import Foundation
@testable import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// `jobq signal`, `jobq answer`, how status and watch show a task that waits or asks, and each
/// refusal (stable code, exit status, nothing written).
@Suite("signal and answer in the CLI", .enabled(if: redisAvailable))
struct SignalCommandTests: WorkflowFileParsing {
    /// Submits `id` on workflow `wf`, claims it and has its handler wait (or ask).
    private func waiting(_ cli: CLIHarness, _ id: String, wf: String, name: String = "approve",
                         timeout: Duration? = nil, question: SignalQuestion? = nil) async throws {
        let submitted = try await cli.run(["submit", "jobq.noop", "--id", id, "--workflow", wf])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let lease = try await cli.claim(id)
        let wait = Failure(lease: lease, mode: .wait(name: question?.signalName ?? name, timeout: timeout, question: question),
                           reason: "waiting", message: "")
        #expect(try await cli.coordinator.leases.fail([wait]) == [.waiting])
    }

    /// The namespace's keys and task `id`'s record: what a refusal must leave as it was.
    private func written(_ cli: CLIHarness, _ id: String) async throws -> [String] {
        let record = try await cli.coordinator.redis.send("HGETALL", .init(cli.coordinator.keys.task(id))).decodeArray().map { try $0.decodeString() }
        return try await cli.keysInNamespace() + ["--"] + record
    }

    @Test func signalResumesAWaitingTaskAndStatusShowsTheWait() async throws {
        let cli = try await CLIHarness.make()
        try await waiting(cli, "gate", wf: "sg", timeout: .seconds(600))
        let watch = try await cli.run(["watch", "sg", "--timeout", "1s"])
        #expect(watch.stdout.contains("gate: PENDING  waiting for signal approve (times out in 9m"), "\(watch.stdout)")
        let status = try await cli.run(["status", "gate"])
        #expect(status.stdout.contains("waiting for signal approve (times out in 9m"), "\(status.stdout)")
        let json = try await cli.run(["status", "gate", "--json"]).json()
        #expect(json["waiting_for"] as? String == "approve")
        #expect(json["wait_until"] is String)

        let sent = try await cli.run(["signal", "gate", "approve", "--payload", #"{"by":"ann"}"#])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stdout == "task gate: signal approve delivered; it no longer waits for it\n")
        let after = try await cli.run(["status", "gate", "--json"]).json()
        #expect(after["waiting_for"] is NSNull)
        #expect(after["signals"] as? [String] == ["approve"])
        // a running task keeps a signal for later
        let kept = try await cli.run(["submit", "jobq.noop", "--id", "later"])
        #expect(kept.status == 0)
        let json2 = try await cli.run(["signal", "later", "go", "--json"]).json()
        #expect(json2["delivery"] as? String == "kept")
    }

    @Test func answerResumesATaskThatAsksAndStatusShowsTheQuestion() async throws {
        let cli = try await CLIHarness.make()
        let question = try SignalQuestion("Overwrite?", choices: ["yes", "no"])
        try await waiting(cli, "up", wf: "sq", question: question)
        let status = try await cli.run(["status", "up"])
        #expect(status.stdout.contains("asks: Overwrite? [yes/no] — jobq answer up yes"), "\(status.stdout)")
        let watch = try await cli.run(["watch", "sq", "--timeout", "1s"])
        #expect(watch.stdout.contains("asks: Overwrite? [yes/no]"), "\(watch.stdout)")
        let json = try await cli.run(["status", "up", "--json"]).json()
        let asked = json["question"] as? [String: Any]
        #expect(asked?["choices"] as? [String] == ["yes", "no"])

        let bad = try await cli.run(["answer", "up", "maybe"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("invalid_answer"), "\(bad.stderr)")
        let answered = try await cli.run(["answer", "up", "no"])
        #expect(answered.status == 0, "\(answered.stderr)")
        #expect(answered.stdout == "task up: answer no delivered; it no longer waits for it\n")
        // it asks nothing now
        let again = try await cli.run(["answer", "up", "no"])
        #expect(again.status == 64)
        #expect(again.stderr.contains("not_asking"), "\(again.stderr)")
    }

    @Test func refusalsHaveStableCodesAndWriteNothing() async throws {
        let cli = try await CLIHarness.make()
        #expect(try await cli.run(["submit", "jobq.noop", "--id", "t"]).status == 0)
        let before = try await written(cli, "t")
        let cases: [([String], Int32, String)] = [
            (["signal", "nope", "approve"], 66, "not_found"),
            (["signal", "t", "bad name"], 64, "invalid_name"),
            (["signal", "t", "approve", "--payload", "{nope"], 64, "invalid_payload"),
            (["signal", "t", "approve", "--payload", "\"" + String(repeating: "x", count: 70_000) + "\""], 64, "payload_too_large"),
            (["answer", "t", "yes"], 64, "not_asking"),
        ]
        for (arguments, status, code) in cases {
            let result = try await cli.run(arguments + ["--json"])
            #expect(result.status == status, "\(arguments.prefix(3)): \(result.stderr)")
            #expect(result.stderr.contains(code), "\(arguments.prefix(3)): \(result.stderr)")
        }
        #expect(try await written(cli, "t") == before)
        // an ended task refuses a signal
        #expect(try await cli.run(["cancel", "t"]).status == 0)
        let ended = try await cli.run(["signal", "t", "approve"])
        #expect(ended.status == 65)
        #expect(ended.stderr.contains("has ended"), "\(ended.stderr)")
    }

    @Test func submitWaitForGatesTheTaskUntilTheSignal() async throws {
        let cli = try await CLIHarness.make()
        let submitted = try await cli.run(["submit", "jobq.noop", "--id", "d", "--workflow", "sw", "--wait-for", "approve",
                                           "--wait-timeout", "10m", "--on-timeout", "skip"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let watch = try await cli.run(["watch", "sw", "--timeout", "1s"])
        #expect(watch.stdout.contains("d: PENDING  waiting for signal approve (times out in 9m"), "\(watch.stdout)")
        #expect(try await cli.run(["signal", "d", "approve"]).status == 0)
        _ = try await cli.claim("d") // dispatched now
        let bad = try await cli.run(["submit", "jobq.noop", "--on-timeout", "skip"])
        #expect(bad.status == 64 && bad.stderr.contains("--wait-for"), "\(bad.stderr)")
        let action = try await cli.run(["submit", "jobq.noop", "--wait-for", "x", "--on-timeout", "later"])
        #expect(action.status == 64 && action.stderr.contains("fail, skip or run"), "\(action.stderr)")
    }

    @Test func waitForInAWorkflowFile() throws {
        let file = try parse("""
            tasks:
              - {id: a, handler: h, wait_for: approve, wait_timeout: 1h, on_timeout: run}
              - {id: b, handler: h}
            """)
        #expect(file.entries.map(\.spec.waitFor) == [DeclaredWait("approve", timeout: .seconds(3600), onTimeout: .run), nil])
        #expect(failure("""
            tasks:
              - {id: a, handler: h, on_timeout: skip}
            """)?.message.contains("go with `wait_for: NAME`") == true)
        #expect(failure("""
            tasks:
              - {id: a, handler: h, wait_for: "no way"}
            """)?.code == .invalidName)
    }
}
