import Foundation
import Jobq
import JobqCore
import JobqRedis
import JobqSpawn
import JobqTestSupport
import Synchronization
import Testing

/// Enabled when redis-server is installed, and always in CI (where its absence must fail).
let redisAvailable = RedisServerFixture.shouldRun

struct FaultTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Unix time in milliseconds: the journal's clock.
func unixMilliseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
}

/// A `jobq-worker` process; stdout and stderr go to its log file. Reaped by a thread blocked in
/// `waitpid` (no polling of the process table).
final class WorkerProcess: Sendable {
    let pid: pid_t
    let name: String
    let logPath: String
    private let status = Mutex<Int32?>(nil)

    private init(pid: pid_t, name: String, logPath: String) {
        self.pid = pid
        self.name = name
        self.logPath = logPath
    }

    /// `.build/<triple>/debug/jobq-worker`, next to the test bundle (as in JobqWorkerTests).
    static func executable() throws -> String {
        guard let path = builtExecutable("jobq-worker") else {
            throw FaultTestError("jobq-worker not found next to the test bundle; build it first: swift build --build-tests")
        }
        return path
    }

    static func start(_ arguments: [String], name: String, logPath: String, environment: [String: String]) throws -> WorkerProcess {
        let executable = try executable()
        let pid = try spawnProcess(executable, arguments, SpawnOptions(environment: cleanJobqEnvironment(environment), stdout: .file(logPath)))
        let process = WorkerProcess(pid: pid, name: name, logPath: logPath)
        Thread { process.reap() }.start()
        return process
    }

    private func reap() {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let code = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        status.withLock { $0 = code }
    }

    /// The exit status (128+n for signal n), `nil` while running.
    var exitStatus: Int32? { status.withLock { $0 } }
    var isRunning: Bool { exitStatus == nil }

    func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits (bounded) for the exit; returns the status and how long it took, or nil.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exitStatus { return status }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return exitStatus
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// A private redis-server, a namespace, a producer, worker processes writing one journal, and a
/// live reader of the event stream. Everything is stopped by ``close()``.
final class Fleet: Sendable {
    static let lease = "3s"
    static let heartbeat = "500ms"
    static let maintenanceInterval = "250ms"
    /// docs/guarantees.md's recovery bound for these settings, in seconds: a dead worker's
    /// tasks run again within lease + maintenance interval + 1 s of its death, backlog or not.
    static let recoveryBound = [lease, maintenanceInterval].compactMap(DurationText.parse)
        .reduce(1.0) { $0 + Double($1.components.seconds) + Double($1.components.attoseconds) / 1e18 }

    let server: RedisServerFixture
    let namespace: String
    let client: JobqClient
    let directory: String
    var journalPath: String { directory + "/journal" }
    private let processes = Mutex<[WorkerProcess]>([])
    private let counter = Mutex(0)
    private let tailState = TailState()
    private let tail = Mutex<Task<Void, Never>?>(nil)

    private init(server: RedisServerFixture, namespace: String, directory: String) throws {
        self.server = server
        self.namespace = namespace
        self.directory = directory
        let redis = server.makeClient { configuration in
            configuration.reconnectWindow = .seconds(2)
            configuration.commandTimeout = .seconds(10)
        }
        self.client = JobqClient(engine: try Coordinator(redis: redis, namespace: namespace))
    }

    var coordinator: Coordinator { client.engine }

    /// Starts a private redis-server (Unix socket only: `port 0`) with `extraConfig`.
    static func start(extraConfig: [String] = []) async throws -> Fleet {
        let server = try await RedisServerFixture.start(extraConfig: extraConfig)
        let fleet = try Fleet(server: server, namespace: "faults-" + String(UInt32.random(in: 0...UInt32.max), radix: 16), directory: server.directory)
        _ = FileManager.default.createFile(atPath: fleet.journalPath, contents: nil)
        fleet.startEventTail()
        return fleet
    }

    /// `jobq-worker` with the test handlers, the journal, lease 3 s and heartbeat 0.5 s.
    @discardableResult
    func startWorker(concurrency: Int = 8, grace: String = "2s", lease: String = Fleet.lease, heartbeat: String = Fleet.heartbeat, extra: [String] = []) throws -> WorkerProcess {
        let number = counter.withLock { $0 += 1; return $0 }
        let name = "w\(number)"
        let arguments = [
            "--redis", server.url, "--namespace", namespace, "--enable-test-handlers",
            "--lease", lease, "--heartbeat", heartbeat, "--maintenance-interval", Self.maintenanceInterval,
            "--shutdown-grace", grace, "--concurrency", "\(concurrency)", "--worker-id", name, "--log-level", "info",
        ] + extra
        let process = try WorkerProcess.start(arguments, name: name, logPath: "\(directory)/\(name).log", environment: ["JOBQ_TEST_JOURNAL": journalPath])
        processes.withLock { $0.append(process) }
        return process
    }

    var running: [WorkerProcess] { processes.withLock { $0.filter(\.isRunning) } }

    // MARK: Records

    func journal() -> (entries: [JournalEntry], unparsable: [String]) {
        JournalEntry.parse((try? String(contentsOfFile: journalPath, encoding: .utf8)) ?? "")
    }

    /// Waits (bounded) until the journal holds a line matching `predicate`.
    func awaitJournal(timeout: Duration = .seconds(20), _ predicate: @escaping ([JournalEntry]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if predicate(journal().entries) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw FaultTestError("the journal never showed what the test waited for within \(timeout)")
    }

    private func startEventTail() {
        let coordinator = self.coordinator
        let state = tailState
        let task = Task {
            while !Task.isCancelled {
                do {
                    let position = state.position.withLock { $0 }
                    let (records, next) = try await coordinator.inspector.events(after: position, block: .milliseconds(500), count: 5000)
                    state.counts.withLock { counts in for record in records { counts.add(record) } }
                    state.position.withLock { $0 = next }
                } catch {
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        tail.withLock { $0 = task }
    }

    /// Stops the live reader after reading everything the stream holds now.
    func events() async throws -> EventCounts {
        tail.withLock { $0?.cancel() }
        _ = await tail.withLock({ $0 })?.value
        let state = tailState
        while true {
            let position = state.position.withLock { $0 }
            let (records, next) = try await coordinator.inspector.events(after: position, block: nil, count: 5000)
            if records.isEmpty && next == position { break }
            state.counts.withLock { counts in for record in records { counts.add(record) } }
            state.position.withLock { $0 = next }
        }
        return state.counts.withLock { $0 }
    }

    /// Final states of `ids`, in pages.
    func states(_ ids: [String]) async throws -> [String: TaskState?] {
        var states: [String: TaskState?] = [:]
        var index = 0
        while index < ids.count {
            let page = Array(ids[index..<min(index + 2000, ids.count)])
            let found = try await coordinator.tasks.taskStates(page)
            for (id, state) in zip(page, found) { states[id] = state }
            index += page.count
        }
        return states
    }

    /// Waits (bounded polling of the indexes) until `total` tasks have ended and nothing is
    /// pending or running. Returns whether it happened.
    func awaitDrained(total: Int, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let overview = try? await coordinator.inspector.overview(),
               overview.finished.values.reduce(0, +) >= total, overview.running == 0, overview.waiting == 0, overview.delayed == 0 {
                return true
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// Tasks in the namespace, all states.
    func taskCount() async throws -> Int {
        let overview = try await coordinator.inspector.overview()
        return overview.finished.values.reduce(0, +) + overview.running + overview.waiting + overview.delayed + overview.ready
    }

    /// Collects the records and runs the checker.
    func check(_ submitted: [SubmittedTask], kills: [Kill] = [], faults: Bool, countNamespace: Bool = true) async throws -> CheckReport {
        let journal = journal()
        let record = RunRecord(
            submitted: submitted, journal: journal.entries, unparsableJournalLines: journal.unparsable,
            finalStates: try await states(submitted.map(\.id)), events: try await events(),
            tasksInNamespace: countNamespace ? try await taskCount() : nil, kills: kills, faultsInjected: faults
        )
        return Checker.check(record)
    }

    func close() async {
        tail.withLock { $0?.cancel() }
        for process in processes.withLock({ $0 }) {
            process.send(SIGCONT)
            process.send(SIGKILL)
            _ = await process.waitForExit(timeout: .seconds(5))
        }
        await client.close()
        if ProcessInfo.processInfo.environment["JOBQ_FAULT_KEEP"] != nil {
            print("FAULT logs kept in \(directory)")
            await server.kill()
        } else {
            await server.stop()
        }
    }
}

/// What the live event reader has seen, and where it is.
final class TailState: Sendable {
    let counts = Mutex(EventCounts())
    let position = Mutex("0-0")
}

/// Runs `body` with a fresh fleet; always stops it.
func withFleet(extraConfig: [String] = [], _ body: (Fleet) async throws -> Void) async throws {
    let fleet = try await Fleet.start(extraConfig: extraConfig)
    do {
        try await body(fleet)
    } catch {
        await fleet.close()
        throw error
    }
    await fleet.close()
}

/// Prints the scenario's summary line and records every violation as a test failure.
func report(_ scenario: String, _ report: CheckReport, extra: String = "") {
    print("FAULT \(scenario): \(report)\(extra.isEmpty ? "" : " " + extra)")
    for violation in report.violations { Issue.record("\(scenario): \(violation)") }
    #expect(report.lost == 0 && report.notTerminal == 0 && report.duplicatedDone == 0 && report.orderViolations == 0 && report.attemptViolations == 0)
}

/// A spec with the fields the fault tests vary.
func spec(
    _ id: String?, _ handler: String = "jobq.sleep", payload: String = #"{"seconds": 0.003}"#, after prerequisites: [String] = [],
    maxAttempts: Int = 5
) -> TaskSpec {
    TaskSpec(
        id: id, handler: handler, payload: Array(payload.utf8), prerequisites: prerequisites.map { Prerequisite($0) },
        maxAttempts: maxAttempts, backoff: .fixed(delay: .milliseconds(100)), timeout: .seconds(60)
    )
}

extension SubmittedTask {
    init(_ spec: TaskSpec, id: String, expectedRuns: Int = 1, expectedState: TaskState? = nil) {
        self.init(id: id, prerequisites: spec.prerequisites.map(\.id), maxAttempts: spec.maxAttempts, expectedRuns: expectedRuns, expectedState: expectedState)
    }
}
