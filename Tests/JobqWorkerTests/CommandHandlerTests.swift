import Foundation
import Jobq
import JobqCore
import JobqTestHandlers
import JobqWorker
import Testing

/// A temp directory for pid files and scripts, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    var template = Array("/tmp/jobq-worker-test-XXXXXX".utf8CString)
    guard let created = mkdtemp(&template) else { throw HarnessError.timeout }
    let directory = String(cString: created)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

/// Whether a process with this pid exists (a zombie counts as gone: it is not running).
func processIsAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let status = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !status.contains(") Z ")
}

/// Reads a pid a script wrote; the file appears once the script has started.
func readPID(_ path: String, within timeout: Duration = .seconds(10)) async throws -> pid_t {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let text = try? String(contentsOfFile: path, encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return pid
        }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("no pid in \(path) within \(timeout)")
    throw HarnessError.timeout
}

func shell(_ script: String) -> CommandHandlerConfiguration {
    CommandHandlerConfiguration(command: ["/bin/sh", "-c", script])
}

@Suite("Command handlers", .enabled(if: redisAvailable))
struct CommandHandlerTests {
    @Test func stdinIsThePayloadStdoutTheResultStderrTheLog() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("cat", command: shell("echo starting >&2; cat; echo done >&2"))
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "cat", payload: #"{"x":[1,2]}"#))
            let info = try await harness.finished("t")
            #expect(info.state == .done)
            #expect(String(decoding: info.result ?? [], as: UTF8.self) == #"{"x":[1,2]}"#)
            #expect(try await harness.coordinator.tasks.logs(of: "t") == ["starting", "done"])
        }
    }

    @Test func textOutputBecomesAJSONStringAndNoOutputNull() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("text", command: shell("printf 'hello \"world\"\\n'"))
            registry.register("silent", command: CommandHandlerConfiguration(command: ["true"]))
            try harness.startWorker(registry)
            try await harness.client.submit(task("a", handler: "text"))
            try await harness.client.submit(task("b", handler: "silent"))
            #expect(try await harness.finished("a").state == .done)
            #expect(try await harness.client.result(of: "a", as: String.self) == "hello \"world\"")
            #expect(try await harness.finished("b").state == .done)
            #expect(String(decoding: try await harness.coordinator.tasks.task("b")?.result ?? [], as: UTF8.self) == "null")
        }
    }

    @Test func theChildSeesTaskVariablesPrerequisiteResultsAndItsConfiguration() async throws {
        try await withTemporaryDirectory { directory in
            try await withHarness { harness in
                var registry = HandlerRegistry()
                registry.register("echo", command: CommandHandlerConfiguration(command: ["cat"]))
                var configuration = shell(#"printf '{"id":"%s","attempt":%s,"wf":"%s","deps":%s,"payload":%s,"greeting":"%s","cwd":"%s","arg":"%s"}' "$JOBQ_TASK_ID" "$JOBQ_ATTEMPT" "$JOBQ_WORKFLOW" "$JOBQ_DEPS_JSON" "$JOBQ_PAYLOAD" "$GREETING" "$(pwd)" "$0""#)
                configuration.command.append("{task_id}")  // $0 of the script
                configuration.environment = ["GREETING": "hi"]
                configuration.workingDirectory = directory
                registry.register("inspect", command: configuration)
                try harness.startWorker(registry)
                var flow = Workflow("env")
                let a = try flow.add("a", handler: "echo", payload: ["n": 1])
                let b = try flow.add("b", handler: "echo", payload: [2, 3])
                try flow.add("c", handler: "inspect", payload: ["p": true], requires: [a, b])
                try await harness.client.submit(flow, run: "wf-env")
                #expect(try await harness.finished("wf-env/c").state == .done)
                struct Seen: Decodable, Equatable {
                    struct Deps: Decodable, Equatable {
                        var a: [String: Int]
                        var b: [Int]
                    }
                    var id: String
                    var attempt: Int
                    var wf: String
                    var deps: Deps
                    var payload: [String: Bool]
                    var greeting: String
                    var cwd: String
                    var arg: String
                }
                let seen = try await harness.client.result(of: "wf-env/c", as: Seen.self)
                #expect(seen == Seen(id: "wf-env/c", attempt: 1, wf: "wf-env", deps: .init(a: ["n": 1], b: [2, 3]), payload: ["p": true], greeting: "hi", cwd: directory, arg: "wf-env/c"))
            }
        }
    }

    @Test func exitStatusesDecideTheOutcome() async throws {
        try await withHarness { harness in
            var configuration = shell(#"echo "exiting $1" >&2; exit "$1""#)
            configuration.command += ["sh", "{attempt}"]
            configuration.skipExitCode = 1  // attempt 1 of "skip" exits 1
            configuration.finalExitCodes = [2]
            var registry = HandlerRegistry()
            registry.register("by-attempt", command: configuration)
            registry.register("final", command: { var c = shell("exit 2"); c.finalExitCodes = [2]; return c }())
            registry.register("flaky", command: shell(#"test "$JOBQ_ATTEMPT" -ge 3 && echo '"ok"' || exit 7"#))
            registry.register("always-7", command: shell("echo broken >&2; exit 7"))
            try harness.startWorker(registry)
            try await harness.client.submit(task("skip", handler: "by-attempt"))
            try await harness.client.submit(task("final", handler: "final", maxAttempts: 5))
            try await harness.client.submit(task("flaky", handler: "flaky", maxAttempts: 3))
            try await harness.client.submit(task("broken", handler: "always-7", maxAttempts: 2))

            let skipped = try await harness.finished("skip")
            #expect(skipped.state == .skipped && skipped.skipped)
            let final = try await harness.finished("final")
            #expect(final.state == .failed && final.attempts == 1 && final.reason == "exit_status")
            let flaky = try await harness.finished("flaky")
            #expect(flaky.state == .done && flaky.attempts == 3)
            #expect(try await harness.client.result(of: "flaky", as: String.self) == "ok")
            let broken = try await harness.finished("broken")
            #expect(broken.state == .failed && broken.attempts == 2)
            #expect(broken.error?.contains("status 7") == true)
            #expect(broken.error?.contains("broken") == true)  // the stderr tail
        }
    }

    @Test func cancellationKillsTheChildsWholeProcessGroup() async throws {
        try await withTemporaryDirectory { directory in
            try await withHarness { harness in
                var registry = HandlerRegistry()
                // The shell and a grandchild, both in the command's process group.
                registry.register("hang", command: shell("echo $$ > \(directory)/shell; sleep 60 & echo $! > \(directory)/child; wait"))
                try harness.startWorker(registry)
                try await harness.client.submit(task("t", handler: "hang"))
                let shellPID = try await readPID("\(directory)/shell")
                let childPID = try await readPID("\(directory)/child")
                #expect(processIsAlive(shellPID) && processIsAlive(childPID))
                #expect(try await harness.client.cancel("t") == .requested)
                let info = try await harness.finished("t")
                #expect(info.state == .cancelled)
                // The outcome is recorded after the handler returned, i.e. after the group died.
                #expect(!processIsAlive(shellPID))
                #expect(!processIsAlive(childPID))
            }
        }
    }

    @Test func aCommandIgnoringSIGTERMIsKilledAfterTheKillGrace() async throws {
        try await withTemporaryDirectory { directory in
            try await withHarness { harness in
                var configuration = shell("trap '' TERM; echo $$ > \(directory)/pid; while :; do sleep 0.05; done")
                configuration.timeout = .milliseconds(300)
                configuration.killGrace = .milliseconds(200)
                var registry = HandlerRegistry()
                registry.register("stubborn", command: configuration)
                try harness.startWorker(registry)
                try await harness.client.submit(task("t", handler: "stubborn", maxAttempts: 1))
                let pid = try await readPID("\(directory)/pid")
                let info = try await harness.finished("t")
                #expect(info.state == .failed)
                #expect(info.reason == "timeout")
                #expect(!processIsAlive(pid))
            }
        }
    }

    @Test func aMissingProgramFailsForGoodWithAClearMessage() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("missing", command: CommandHandlerConfiguration(command: ["/nonexistent/program"]))
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "missing", maxAttempts: 3))
            let info = try await harness.finished("t")
            #expect(info.state == .failed)
            #expect(info.attempts == 1)
            #expect(info.reason == "command_failed_to_start")
            #expect(info.error?.contains("/nonexistent/program") == true)
        }
    }

    /// Under the supervisor shim as before it: a death by signal is reported as that signal, and
    /// a program that cannot be executed fails for good with the system's reason.
    @Test func signalsAndExecFailuresReachTheOutcomeUnchanged() async throws {
        try await withTemporaryDirectory { directory in
            try await withHarness { harness in
                let notExecutable = "\(directory)/handler.sh"
                try "#!/bin/sh\necho hi\n".write(toFile: notExecutable, atomically: true, encoding: .utf8)
                var registry = HandlerRegistry()
                registry.register("segv", command: shell("echo about to crash >&2; kill -SEGV $$"))
                registry.register("not-executable", command: CommandHandlerConfiguration(command: [notExecutable]))
                try harness.startWorker(registry)
                try await harness.client.submit(task("segv", handler: "segv", maxAttempts: 1))
                try await harness.client.submit(task("noexec", handler: "not-executable", maxAttempts: 3))
                let segv = try await harness.finished("segv")
                #expect(segv.state == .failed && segv.reason == "signal")
                #expect(segv.error?.contains("killed by signal 11 (SIGSEGV)") == true, "\(segv.error ?? "")")
                #expect(segv.error?.contains("about to crash") == true)
                let noexec = try await harness.finished("noexec")
                #expect(noexec.state == .failed && noexec.attempts == 1 && noexec.reason == "command_failed_to_start")
                #expect(noexec.error?.contains("Permission denied") == true, "\(noexec.error ?? "")")
            }
        }
    }

    @Test func progressLinesOnStderrBecomeProgress() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("steps", command: shell(#"echo "JOBQ_PROGRESS 40%" >&2; echo 'JOBQ_PROGRESS {"group":["files"],"current":2,"total":5,"status":"b.txt"}' >&2; echo working >&2"#))
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "steps"))
            #expect(try await harness.finished("t").state == .done)
            #expect(try await harness.coordinator.tasks.progress(of: "t") == [
                ProgressEntry(group: [], current: 40, total: 100, status: ""),
                ProgressEntry(group: ["files"], current: 2, total: 5, status: "b.txt"),
            ])
            #expect(try await harness.coordinator.tasks.logs(of: "t") == ["working"])
        }
    }

    @Test func taskCommandsRunOnlyWhenAllowed() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.registerTestHandlers()
            #expect(!registry.contains("jobq.exec"))
            registry.registerTaskCommandHandler()
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "jobq.exec", payload: #"{"command": ["/bin/sh", "-c", "cat; echo ' + 1'"], "input": "41"}"#))
            #expect(try await harness.finished("t").state == .done)
            #expect(try await harness.client.result(of: "t", as: String.self) == "\"41\" + 1")
        }
    }
}
