import Foundation
import Jobq
import JobqCore
import JobqRedis
import JobqTestSupport
import JobqWorker
import Testing

/// Runs `jobq-worker` with `arguments` against the harness's namespace; kills it if the test fails.
func withWorkerProcess(
    _ harness: Harness, _ arguments: [String], environment: [String: String] = [:], _ body: (WorkerProcess) async throws -> Void
) async throws {
    let process = try WorkerProcess.start(["--redis", harness.server.url, "--namespace", harness.namespace] + arguments, environment: environment)
    do {
        try await body(process)
    } catch {
        process.kill()
        throw error
    }
    process.kill()
}

/// Fast timings for the executable.
let quickTimings = ["--lease", "2s", "--heartbeat", "100ms", "--maintenance-interval", "100ms", "--log-level", "debug"]

@Suite("jobq-worker executable", .enabled(if: redisAvailable), .serialized)
struct ExecutableTests {
    @Test func helpExplainsOptionsSignalsAndExitCodes() async throws {
        let process = try WorkerProcess.start(["--help"])
        #expect(try await process.exitStatus() == 0)
        let help = process.text
        for needle in ["--redis", "--password-file", "--queues", "--concurrency", "--config", "--once", "--shutdown-grace",
                       "--metrics-port", "--enable-test-handlers", "--allow-task-commands", "SIGTERM", "EXIT STATUS", "JOBQ_REDIS_URL"] {
            #expect(help.contains(needle), "help lacks \(needle)")
        }
        #expect(!help.contains("bench"))
    }

    @Test(arguments: [
        (["--enable-test-handlers", "--lease", "30s", "--heartbeat", "20s"], "lease/3"),
        (["--enable-test-handlers", "--concurrency", "0"], "concurrency must be between 1"),
        (["--enable-test-handlers", "--queues", "good,bad:name"], "contains ':'"),
        (["--enable-test-handlers", "--queues", "critical=6,default"], "give every queue a weight"),
        (["--enable-test-handlers", "--queues", "critical=0,default=1"], "queue weight \"0\" of critical must be a whole number from 1 to 1000"),
        (["--enable-test-handlers", "--lease", "soon"], "not a duration"),
        (["--enable-test-handlers", "--lease", "1x"], "--lease: \"1x\" is not a duration; use e.g. 30s, 1m30s, 250ms"),
        (["--enable-test-handlers", "--heartbeat", "1s1s"], "--heartbeat: \"1s1s\" is not a duration"),
        // 1h30m is 90 minutes: 31m is just over lease/3.
        (["--enable-test-handlers", "--lease", "1h30m", "--heartbeat", "31m"], "heartbeat 31m is too slow for lease 1h30m"),
        (["--enable-test-handlers", "--log-format", "xml"], "text, json"),
        (["--enable-test-handlers", "--no-such-flag"], "Unknown option"),
        (["--enable-test-handlers", "--redis", "http://localhost"], "invalid redis URL"),
        (["--enable-test-handlers", "--password-file", "/nonexistent/pw"], "cannot read the password file"),
        ([], "no handlers to run"),
        (["--config", "/nonexistent/worker.yaml"], "cannot read config file"),
    ])
    func invalidOptionsExit64WithAClearMessage(arguments: [String], message: String) async throws {
        let process = try WorkerProcess.start(arguments)
        #expect(try await process.exitStatus() == 64)
        #expect(process.text.contains(message), "expected \"\(message)\" in:\n\(process.text)")
    }

    @Test func aConfigFileWithATypoIsRejectedWithTheLine() async throws {
        try await withTemporaryDirectory { directory in
            let path = "\(directory)/worker.yaml"
            try "handlers:\n  resize:\n    comand: [convert]\n".write(toFile: path, atomically: true, encoding: .utf8)
            let process = try WorkerProcess.start(["--config", path])
            #expect(try await process.exitStatus() == 64)
            #expect(process.text.contains("worker.yaml:3"))
            #expect(process.text.contains("did you mean `command`"))
        }
    }

    @Test func onceDrainsTheQueuesAndExitsZero() async throws {
        try await withHarness { harness in
            var flow = Workflow("drain")
            var previous: [Workflow.TaskRef] = []
            for index in 0..<5 {
                previous = [try flow.add("chain\(index)", handler: "jobq.noop", requires: previous)]
            }
            try flow.add("flaky", handler: "jobq.fail", payload: ["times": 1])
            let run = try await harness.client.submit(flow, run: "drain")
            _ = try await harness.coordinator.tasks.submit((0..<100).map { task("n\($0)", handler: "jobq.echo", payload: "\($0)") })
            try await withWorkerProcess(harness, ["--enable-test-handlers", "--once", "--concurrency", "8"] + quickTimings) { process in
                let status = try await process.exitStatus()
                #expect(status == 0, "\(process.text)")
            }
            let summary = try await harness.client.summary(workflow: "drain")
            #expect(summary.succeeded, "\(summary)")
            #expect(try await run.status().state == .done)
            #expect(try await harness.coordinator.inspector.stats()["done"] == 106)
            #expect(try await harness.client.result(of: "n42", as: Int.self) == 42)
        }
    }

    @Test func configFileCommandHandlersRun() async throws {
        try await withTemporaryDirectory { directory in
            try await withHarness { harness in
                let path = "\(directory)/worker.yaml"
                try """
                    worker:
                      concurrency: 2
                      queues: [files]
                    handlers:
                      upper:
                        command: ["/bin/sh", "-c", "tr a-z A-Z; echo converted >&2"]
                        timeout: 10s
                    """.write(toFile: path, atomically: true, encoding: .utf8)
                try await harness.client.submit(task("t", handler: "upper", payload: #""shout""#, queue: "files"))
                try await withWorkerProcess(harness, ["--config", path, "--once"] + quickTimings) { process in
                    let status = try await process.exitStatus()
                    #expect(status == 0, "\(process.text)")
                }
                #expect(try await harness.client.result(of: "t", as: String.self) == "SHOUT")
                #expect(try await harness.coordinator.tasks.logs(of: "t") == ["converted"])
            }
        }
    }

    @Test func sigtermHandsBackRunningWorkAndExitsZero() async throws {
        try await withHarness { harness in
            try await harness.client.submit(task("t", handler: "jobq.sleep", payload: #"{"seconds": 60}"#))
            try await withWorkerProcess(harness, ["--enable-test-handlers", "--shutdown-grace", "200ms"] + quickTimings) { process in
                try await harness.awaitTransition("t", to: .running)
                process.send(SIGTERM)
                #expect(try await process.exitStatus() == 0)
                #expect(process.text.contains("shutting down gracefully"))
            }
            let info = try #require(try await harness.coordinator.tasks.task("t"))
            #expect(info.state == .pending)
            #expect(info.attempts == 0)
            #expect(try await harness.coordinator.inspector.workers().isEmpty)
        }
    }

    @Test func sigtermLetsAShortTaskFinishFirst() async throws {
        try await withHarness { harness in
            try await harness.client.submit(task("t", handler: "jobq.sleep", payload: #"{"seconds": 0.5}"#))
            try await withWorkerProcess(harness, ["--enable-test-handlers", "--shutdown-grace", "20s"] + quickTimings) { process in
                try await harness.awaitTransition("t", to: .running)
                process.send(SIGTERM)
                #expect(try await process.exitStatus() == 0)
            }
            #expect(try await harness.coordinator.tasks.task("t")?.state == .done)
        }
    }

    @Test func aSecondSignalExitsAtOnce() async throws {
        try await withHarness { harness in
            try await harness.client.submit(task("t", handler: "jobq.sleep", payload: #"{"seconds": 60}"#))
            try await withWorkerProcess(harness, ["--enable-test-handlers", "--shutdown-grace", "60s"] + quickTimings) { process in
                try await harness.awaitTransition("t", to: .running)
                process.send(SIGTERM)
                _ = try await process.line(containing: "shutting down gracefully")
                process.send(SIGTERM)
                #expect(try await process.exitStatus(timeout: .seconds(10)) == 128 + SIGTERM)
            }
        }
    }

    @Test func aSIGKILLedWorkersTaskRunsAgainOnAnotherWorkerAfterItsLease() async throws {
        try await withHarness { harness in
            try await harness.client.submit(task("t", handler: "jobq.sleep", payload: #"{"seconds": 60}"#))
            try await withWorkerProcess(harness, ["--enable-test-handlers", "--lease", "1s", "--heartbeat", "200ms"]) { process in
                try await harness.awaitTransition("t", to: .running)
                process.send(SIGKILL)
                #expect(try await process.exitStatus() == 128 + SIGKILL)
            }
            // A second worker, whose jobq.sleep returns at once, picks it up once it is reaped.
            var registry = HandlerRegistry()
            registry.register("jobq.sleep") { (_: JSONNull, context: HandlerContext) async throws -> [Int] in [context.attempt, context.workerDeaths] }
            try harness.startWorker(registry)
            let info = try await harness.finished("t", timeout: .seconds(20))
            #expect(info.state == .done)
            // The death is not charged (the task did not run alone), but the re-run knows of it.
            #expect(info.attempts == 1)
            #expect(info.workerDeaths == 1)
            #expect(try await harness.client.result(of: "t", as: [Int].self) == [1, 1])
        }
    }

    @Test func metricsAreServedInPrometheusFormat() async throws {
        try await withHarness { harness in
            try await harness.client.submit(task("t", handler: "jobq.noop"))
            try await withWorkerProcess(harness, ["--enable-test-handlers", "--metrics-port", "0", "--metrics-address", "127.0.0.1"] + quickTimings) { process in
                let line = try await process.line(containing: "serving metrics")
                let port = try #require(line.split(separator: " ").first { $0.hasPrefix("metrics_port=") }.flatMap { Int($0.dropFirst("metrics_port=".count)) })
                #expect(try await harness.finished("t").state == .done)
                let body = try await httpGet(port: port, path: "/metrics")
                #expect(body.contains("jobq_worker_tasks_started_total{handler=\"jobq.noop\"} 1"), "\(body)")
                #expect(body.contains("jobq_worker_slots "))
                #expect(body.contains("jobq_worker_task_duration_seconds_bucket"))
                #expect(try await httpGet(port: port, path: "/healthz") == "ok\n")
                process.send(SIGTERM)
                #expect(try await process.exitStatus() == 0)
            }
        }
    }

    /// The duration grammar is the CLI's (JobqCore's DurationText), in flags and the config file.
    @Test func compoundDurationsInFlagsAndTheConfigFile() async throws {
        try await withHarness { harness in
            try await harness.client.submit(task("t", handler: "jobq.noop"))
            try await withWorkerProcess(harness, ["--enable-test-handlers", "--once", "--lease", "1h30m", "--heartbeat", "30m", "--maintenance-interval", "100ms"]) { process in
                let status = try await process.exitStatus()
                #expect(status == 0, "\(process.text)")
            }
            #expect(try await harness.client.status("t").state == .done)
        }
        try await withTemporaryDirectory { directory in
            let slow = "\(directory)/slow.yaml"
            try "worker:\n  lease: 1h30m\n  heartbeat: 31m\n".write(toFile: slow, atomically: true, encoding: .utf8)
            let tooSlow = try WorkerProcess.start(["--enable-test-handlers", "--config", slow])
            #expect(try await tooSlow.exitStatus() == 64)
            #expect(tooSlow.text.contains("heartbeat 31m is too slow for lease 1h30m"), "\(tooSlow.text)")
            let bad = "\(directory)/bad.yaml"
            try "worker:\n  lease: 1x\n".write(toFile: bad, atomically: true, encoding: .utf8)
            let rejected = try WorkerProcess.start(["--enable-test-handlers", "--config", bad])
            #expect(try await rejected.exitStatus() == 64)
            #expect(rejected.text.contains("bad.yaml:") && rejected.text.contains("worker.lease: \"1x\" is not a duration"), "\(rejected.text)")
        }
    }

    @Test func aPasswordComesFromAFileOrTheEnvironmentAndAWrongOneIsFatal() async throws {
        try await withRedisServer(extraConfig: ["requirepass s3cret"]) { server in
            try await withTemporaryDirectory { directory in
                let harness = try Harness(server: server)
                let client = JobqClient(engine: try Coordinator(redis: server.makeClient { $0.password = "s3cret" }, namespace: harness.namespace))
                try await client.submit(task("t", handler: "jobq.noop"))
                let passwordFile = "\(directory)/password"
                try "s3cret\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
                try await withWorkerProcess(harness, ["--enable-test-handlers", "--once", "--password-file", passwordFile] + quickTimings) { process in
                    let status = try await process.exitStatus()
                    #expect(status == 0, "\(process.text)")
                }
                #expect(try await client.status("t").state == .done)
                try await withWorkerProcess(harness, ["--enable-test-handlers", "--once"], environment: ["JOBQ_REDIS_PASSWORD": "wrong"]) { process in
                    let status = try await process.exitStatus()
                    #expect(status == 1)
                    #expect(process.text.contains("refused AUTH for the default user: WRONGPASS"), "\(process.text)")
                    #expect(process.text.contains("check the password from JOBQ_REDIS_PASSWORD"), "\(process.text)")
                }
                // No password at all: told so, not that one was refused.
                try await withWorkerProcess(harness, ["--enable-test-handlers", "--once"]) { process in
                    let status = try await process.exitStatus()
                    #expect(status == 1)
                    #expect(process.text.contains("requires a password and none was given"), "\(process.text)")
                }
                await client.close()
                await harness.close()
            }
        }
    }
}

/// A minimal HTTP GET over a TCP socket to 127.0.0.1 (no URLSession dependency).
func httpGet(port: Int, path: String) async throws -> String {
    try await Task.detached {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw HarnessError.timeout }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw HarnessError.timeout }
        return String(text[split.upperBound...])
    }.value
}

@Suite("docker/worker.yaml", .enabled(if: redisAvailable))
struct ExampleConfigTests {
    /// The example configuration shipped in the Docker image parses and its handlers work.
    @Test func theExampleConfigIsValidAndItsHandlersWork() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = root.appendingPathComponent("docker/worker.yaml").path
        try await withHarness { harness in
            var flow = Workflow("example")
            let words = try flow.add("words", handler: "text.wc", payload: "to be or not to be")
            let shout = try flow.add("shout", handler: "text.upper", payload: "quiet")
            let three = try flow.add("three", handler: "jobq.echo", payload: 3)
            try flow.add("sum", handler: "math.sum-deps", requires: [words, three])
            try flow.add("nothing", handler: "math.sum-deps", requires: [shout])
            try await harness.client.submit(flow, run: "example")
            try await withWorkerProcess(harness, ["--config", config, "--enable-test-handlers", "--once", "--log-format", "text"] + quickTimings) { process in
                let status = try await process.exitStatus()
                #expect(status == 0, "\(process.text)")
            }
            #expect(try await harness.client.result(of: "example/words", as: Int.self) == 6)
            #expect(try await harness.client.result(of: "example/shout", as: String.self) == "QUIET")
            #expect(try await harness.client.result(of: "example/sum", as: Int.self) == 9)
            let nothing = try await harness.coordinator.tasks.task("example/nothing")
            #expect(nothing?.state == .skipped && nothing?.skipped == true)
        }
    }
}

@Suite("jobq-worker --strict", .enabled(if: redisAvailable))
struct StrictStartTests {
    /// The test servers run without persistence: a warning normally, a refusal with --strict.
    @Test func strictRefusesARedisThatCanLoseTasks() async throws {
        let server = try await RedisServerFixture.shared()
        let process = try WorkerProcess.start(["--redis", server.url, "--namespace", "strict-test", "--enable-test-handlers", "--strict"])
        #expect(try await process.exitStatus() == 69)
        #expect(process.text.contains("persistence"), "\(process.text)")
    }

    @Test func strictAcceptsAppendOnlyWithNoEviction() async throws {
        try await withRedisServer(extraConfig: ["appendonly yes", "maxmemory-policy noeviction"]) { server in
            let process = try WorkerProcess.start(["--redis", server.url, "--namespace", "strict-ok", "--enable-test-handlers", "--strict", "--once"])
            #expect(try await process.exitStatus() == 0, "\(process.text)")
        }
    }
}
