import Foundation
import JobqCore
import JobqRedis
import JobqTestSupport
import Synchronization
import Testing

/// Whether the CLI tests that need Redis run (redis-server installed, or CI where it must be).
let redisAvailable = RedisServerFixture.shouldRun

/// What one run of the `jobq` binary did.
struct CLIResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String

    /// stdout parsed as one JSON object.
    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
        return try #require(object as? [String: Any], "stdout is not a JSON object: \(stdout)", sourceLocation: sourceLocation)
    }

    /// stderr's JSON error object (`--json` errors).
    func jsonError(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let line = stderr.split(separator: "\n").first.map(String.init) ?? ""
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        let top = try #require(object as? [String: Any], "stderr is not JSON: \(stderr)", sourceLocation: sourceLocation)
        return try #require(top["error"] as? [String: Any], sourceLocation: sourceLocation)
    }

    var trimmedOutput: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// Finds (building it if needed) the `jobq` executable that `swift build` produced.
enum JobqBinary {
    static let path: String = locate()

    private static func locate() -> String {
        let fileManager = FileManager.default
        // 1. Next to the test bundle: .build/<triple>/debug/jobqPackageTests.xctest → …/debug/jobq.
        var candidates: [String] = []
        let argument0 = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var directory = argument0.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("jobq").path)
            directory = directory.deletingLastPathComponent()
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("jobq").path)
        // 2. The package's default build directory.
        let root = packageRoot
        candidates.append(root + "/.build/debug/jobq")
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
                fileManager.isExecutableFile(atPath: candidate)
            {
                return candidate
            }
        }
        // 3. Not built yet (`swift test` without `swift build` first): build it once, bounded
        //    (SwiftPM may hold its build lock while tests run; then the tests fail with a message
        //    saying to run `swift build` first, instead of hanging).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "build", "--product", "jobq", "--package-path", root]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        if (try? process.run()) != nil {
            let deadline = Date().addingTimeInterval(900)
            while process.isRunning && Date() < deadline { usleep(100_000) }
            if process.isRunning { process.terminate() }
        }
        let built = root + "/.build/debug/jobq"
        if !fileManager.isExecutableFile(atPath: built) {
            Issue.record("the jobq executable was not found next to the tests nor at \(built), and building it failed; run `swift build` first")
        }
        return built
    }

    /// `jobq-worker`, built beside `jobq` (`swift build --build-tests` builds both).
    static var workerPath: String {
        URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("jobq-worker").path
    }

    /// The package root, from this file's path (Tests/JobqCLITests/Support/CLIHarness.swift).
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }
}

/// Runs `jobq` as a subprocess against a namespace of the shared test redis-server.
struct CLIHarness: Sendable {
    let server: RedisServerFixture
    let namespace: String
    let coordinator: Coordinator

    /// A harness on the shared server with a fresh namespace.
    static func make() async throws -> CLIHarness {
        let server = try await RedisServerFixture.shared()
        let namespace = "cli-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let coordinator = try Coordinator(redis: server.makeClient(), namespace: namespace)
        return CLIHarness(server: server, namespace: namespace, coordinator: coordinator)
    }

    var keys: Keyspace { coordinator.keys }

    /// Runs `jobq ARGS --redis … --namespace …` (connection flags appended unless `connect` is
    /// false) with a clean environment; bounded by `timeout`.
    func run(
        _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], connect: Bool = true,
        timeout: Duration = .seconds(60)
    ) async throws -> CLIResult {
        var full = arguments
        if connect { full += ["--redis", server.url, "--namespace", namespace] }
        return try await CLIHarness.execute(full, stdin: stdin, environment: environment, timeout: timeout)
    }

    /// Runs the binary with exactly `arguments`.
    static func execute(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], timeout: Duration = .seconds(60)) async throws -> CLIResult {
        let running = try await RunningCLI.start(arguments, stdin: stdin, environment: environment)
        return await running.finish(timeout: timeout)
    }

    /// Starts `jobq ARGS --redis … --namespace …` and returns at once (for wait/watch/logs -f
    /// tests that act while it runs).
    func start(_ arguments: [String]) async throws -> RunningCLI {
        try await RunningCLI.start(arguments + ["--redis", server.url, "--namespace", namespace])
    }

    /// Submits tasks a, b and c (`jobq.noop`, payload `{"tenant":42}`) to `workflow` with the
    /// limit `options`, then claims 10: a limit of 2 (concurrency or rate) lets a and b start
    /// and holds c back, parked. Returns the claimed tasks.
    func submitThreeAndHoldOne(workflow: String, _ options: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> [ClaimedTask] {
        for id in ["a", "b", "c"] {
            let submitted = try await run(["submit", "jobq.noop", "--id", id, "--payload", #"{"tenant":42}"#, "--workflow", workflow] + options)
            #expect(submitted.status == 0, "\(submitted.stderr)", sourceLocation: sourceLocation)
        }
        let claimed = try await coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(60), worker: "w")
        #expect(claimed.map(\.id) == ["a", "b"], sourceLocation: sourceLocation)
        return claimed
    }

    /// `jobq submit jobq.noop --payload {"other":1} --json EXTRA` must be refused: exit 64, the
    /// error `code` with `message` in its text, nothing written.
    func expectSubmitRefused(_ extra: [String], code: String, message: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let result = try await run(["submit", "jobq.noop", "--payload", #"{"other":1}"#, "--json"] + extra)
        #expect(result.status == 64, "\(extra): \(result.stderr)", sourceLocation: sourceLocation)
        let error = try result.jsonError()
        #expect(error["code"] as? String == code, "\(extra): \(error)", sourceLocation: sourceLocation)
        #expect((error["message"] as? String)?.contains(message) == true, "\(extra): \(error)", sourceLocation: sourceLocation)
        #expect(try await keysInNamespace().isEmpty, sourceLocation: sourceLocation)
    }

    // MARK: Redis state

    /// Every key of the namespace (for "nothing was written").
    func keysInNamespace() async throws -> [String] {
        var cursor = "0"
        var found: [String] = []
        repeat {
            let reply = try await coordinator.redis.send("SCAN", RedisArgument(cursor), "MATCH", RedisArgument(keys.prefix + "*"), "COUNT", 1000)
            let parts = try reply.decodeArray()
            cursor = try parts[0].decodeString()
            found += try parts[1].decodeArray().map { try $0.decodeString() }
        } while cursor != "0"
        return found.sorted()
    }

    func state(_ id: String) async throws -> TaskState? {
        try await coordinator.tasks.task(id)?.state
    }

    /// Claims `id` (it must be dispatchable on its queue) and completes it with `result`.
    func complete(_ id: String, result: String = "null", queue: String = "default") async throws {
        let lease = try await claim(id, queue: queue)
        let outcome = try await coordinator.leases.complete([Completion(lease: lease, result: Array(result.utf8))])
        #expect(outcome == [.done])
    }

    /// Claims `id` and fails it for good.
    func failFinal(_ id: String, message: String = "boom", queue: String = "default") async throws {
        let lease = try await claim(id, queue: queue)
        let outcome = try await coordinator.leases.fail([Failure(lease: lease, mode: .final, reason: "error", message: message)])
        #expect(outcome == [.failed])
    }

    /// Claims the ready tasks of `queue` until `id` is among them; hands the others back.
    func claim(_ id: String, queue: String = "default") async throws -> TaskLease {
        for _ in 0..<50 {
            let claimed = try await coordinator.leases.claim(queues: [queue], count: 100, lease: .seconds(60), worker: "test-worker")
            let others = claimed.filter { $0.id != id }
            if !others.isEmpty {
                _ = try await coordinator.leases.fail(others.map { Failure(lease: $0.lease, mode: .handBack, reason: "test", message: "") })
            }
            if let task = claimed.first(where: { $0.id == id }) { return task.lease }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw FixtureError("task \(id) never became claimable on queue \(queue)")
    }

    /// Writes a file in a fresh temp directory and returns its path.
    static func temporaryFile(_ name: String, _ contents: String) throws -> String {
        let directory = NSTemporaryDirectory() + "jobq-cli-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + name
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// A `jobq` child process whose stdout and stderr are read, as they come, on threads of their own.
///
/// Waiting is done by polling `isRunning` with short sleeps, never with `waitUntilExit()`
/// (which spins in a run loop off the main thread on Linux), and every wait is bounded.
final class RunningCLI: Sendable {
    let process: Process
    private let output = Mutex<[Data]>([Data(), Data()])
    private let closed = Mutex<Int>(0)

    private init(process: Process) { self.process = process }

    /// Starts `executable` (default: `jobq`; ``JobqBinary/workerPath`` for a worker).
    static func start(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], executable: String = JobqBinary.path) async throws -> RunningCLI {
        // Start the shared redis-server before any pipe of ours exists: a server spawned later
        // would inherit the pipes' write ends and keep them open (no EOF) while it lives.
        if redisAvailable { _ = try? await RedisServerFixture.shared() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for name in ["JOBQ_REDIS_URL", "JOBQ_NAMESPACE", "JOBQ_REDIS_PASSWORD", "NO_COLOR", "COLUMNS"] { env[name] = nil }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        let running = RunningCLI(process: process)
        for (index, pipe) in [out, err].enumerated() {
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread {
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    running.output.withLock { $0[index].append(chunk) }
                }
                // Closed at EOF: left open, a suite's hundreds of runs held ~1,500 descriptors,
                // and Foundation's Process.run (on Linux) over-reads its /proc/self/fd listing once
                // it is that long (swift-corelibs-foundation#5472): a SIGSEGV in the test process.
                try? handle.close()
                running.closed.withLock { $0 += 1 }
            }
        }
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        return running
    }

    var stdout: String { String(decoding: output.withLock { $0[0] }, as: UTF8.self) }
    var stderr: String { String(decoding: output.withLock { $0[1] }, as: UTF8.self) }

    /// Waits (bounded) until stdout has something; returns it.
    func firstOutput(timeout: Duration = .seconds(20)) async -> String {
        let deadline = ContinuousClock.now + timeout
        while stdout.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return stdout
    }

    /// Waits (bounded) for the process to exit and its output to be read to the end.
    func finish(timeout: Duration) async -> CLIResult {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                Issue.record("jobq \(process.arguments?.joined(separator: " ") ?? "") did not finish within \(timeout)")
                process.terminate()
                let killDeadline = ContinuousClock.now + .seconds(5)
                while process.isRunning && ContinuousClock.now < killDeadline { try? await Task.sleep(for: .milliseconds(10)) }
                break
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        // EOF on both pipes normally follows at once; bounded in case a grandchild holds them.
        let readDeadline = ContinuousClock.now + .seconds(10)
        while closed.withLock({ $0 }) < 2 && ContinuousClock.now < readDeadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        let status = process.isRunning ? -1 : process.terminationStatus
        return CLIResult(status: status, stdout: stdout, stderr: stderr)
    }
}
