import Foundation
import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqCore

/// No script call runs longer than 10 ms while a 50,000-task graph is cancelled, retried,
/// repaired and purged (issue 9, part 4), and while 20,000 tasks fall due or expire at once: on a private redis-server (SLOWLOG is per server), each
/// operation's script calls are read back from SLOWLOG and the longest is printed.
@Suite("bounded scripts", .enabled(if: redisAvailable), .serialized)
struct BoundedScriptTests {
    static let chainLength = 20_000
    static let fanOut = 29_999
    /// The bar: Redis `slowlog-log-slower-than 10000`.
    static let barMicroseconds = 10_000

    /// A private server logging every call over 1 ms (so that the longest call can be printed
    /// when it is under the bar; a threshold of 0 would also log, and slow down, every command
    /// the scripts run), and a coordinator on Redis time.
    struct Server {
        let fixture: RedisServerFixture
        let client: RedisClient
        let coordinator: Coordinator
        let names: [String: String]

        static func start() async throws -> Server {
            let fixture = try await RedisServerFixture.start(extraConfig: ["slowlog-max-len 1000000"])
            let client = fixture.makeClient()
            let coordinator = try Coordinator(redis: client, namespace: "bounded")
            // The machine running the tests is shared with compilers: give this redis-server the
            // priority a dedicated Redis host has, so that SLOWLOG measures the scripts' work
            // rather than the time the server waited for a CPU (printed: whether it applied).
            let info = try await client.send("INFO", "server").decodeString()
            if let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("process_id:") }) {
                let renice = Process()
                renice.executableURL = URL(fileURLWithPath: "/usr/bin/renice")
                renice.arguments = ["-n", "-10", "-p", String(line.dropFirst("process_id:".count))]
                renice.standardOutput = FileHandle.nullDevice
                renice.standardError = FileHandle.nullDevice
                try? renice.run()
                renice.waitUntilExit()
                print("bounded scripts: redis-server reniced to -10: \(renice.terminationStatus == 0)")
            }
            let names = Dictionary(uniqueKeysWithValues: Scripts.all.map { (Scripts.functionName($0), $0.name) })
            return Server(fixture: fixture, client: client, coordinator: coordinator, names: names)
        }

        func stop() async {
            await client.close()
            await fixture.stop()
        }

        /// Runs `body` and returns every script call it made, as (script, µs), longest first, and
        /// the longest other command.
        func calls(_ body: () async throws -> Void) async throws -> (scripts: [(String, Int)], other: (String, Int)) {
            _ = try await client.send("CONFIG", "SET", "slowlog-log-slower-than", 1000)
            _ = try await client.send("SLOWLOG", "RESET")
            try await body()
            _ = try await client.send("CONFIG", "SET", "slowlog-log-slower-than", RedisArgument(barMicroseconds))
            var scripts: [(String, Int)] = []
            var other = ("", 0)
            for entry in try await client.send("SLOWLOG", "GET", -1).decodeArray() {
                let fields = try entry.decodeArray()
                let micros = try fields[2].decodeInt()
                let argv = try fields[3].decodeArray().map { (try? $0.decodeString()) ?? "" }
                let command = argv.first?.uppercased() ?? ""
                if command == "FCALL" || command == "EVALSHA" || command == "EVAL" {
                    let name = names[argv.count > 1 ? argv[1] : ""] ?? "script"
                    scripts.append((name, micros))
                } else if !["SLOWLOG", "CONFIG"].contains(command), micros > other.1 {
                    other = (argv.prefix(2).joined(separator: " "), micros)
                }
            }
            return (scripts.sorted { $0.1 > $1.1 }, other)
        }

        func count(_ state: TaskState) async throws -> Int {
            try await client.send("ZCARD", RedisArgument(coordinator.keys.ended(state))).decodeInt()
        }
    }

    static func noop(_ id: String, after: [String] = []) -> TaskSpec {
        TaskSpec(id: id, handler: "noop", queue: "default", payload: Array("{}".utf8), prerequisites: after.map { Prerequisite($0) })
    }

    /// Submits in batches of 500, so that building the graph stays under the bar too.
    static func submitChain(_ coordinator: Coordinator, prefix: String, length: Int) async throws -> [String] {
        let ids = (0..<length).map { prefix + String($0) }
        for start in stride(from: 0, to: length, by: 500) {
            let batch = (start..<min(start + 500, length)).map { noop(ids[$0], after: $0 == 0 ? [] : [ids[$0 - 1]]) }
            _ = try await coordinator.tasks.submit(batch)
        }
        return ids
    }

    static func submitFan(_ coordinator: Coordinator, root: String, children: Int, workflow: String) async throws -> [String] {
        var ids = [root]
        _ = try await coordinator.tasks.submit([noop(root)], workflow: workflow)
        for start in stride(from: 0, to: children, by: 500) {
            let batch = (start..<min(start + 500, children)).map { noop(root + "-" + String($0), after: [root]) }
            ids += (start..<min(start + 500, children)).map { root + "-" + String($0) }
            _ = try await coordinator.tasks.submit(batch, workflow: workflow)
        }
        return ids
    }

    /// A call over the bar is a failure, but a loaded CI machine can stall the server for a
    /// few ms in any command (seen: one HMGET of 9 ms), so a run with violations is repeated once
    /// on a fresh server and the test fails only if the second run has them too: an unbounded
    /// call (0.5–1.9 s before) fails both, every time.
    @Test func cancellingRetryingRepairingAndPurgingFiftyThousandTasksStaysUnderTenMilliseconds() async throws {
        try await Self.overTheBarTwice("bounded scripts") { server in try await exercise(server) }
    }

    /// Runs `exercise` (which returns the calls over the bar) on a fresh private server, once
    /// more if it had violations; records them as issues only when both runs had some.
    static func overTheBarTwice(_ label: String, _ exercise: (Server) async throws -> [String]) async throws {
        for attempt in 1...2 {
            let server = try await Server.start()
            let violations: [String]
            do {
                violations = try await exercise(server)
            } catch {
                await server.stop()
                throw error
            }
            await server.stop()
            if violations.isEmpty { return }
            print("\(label): run \(attempt) had \(violations.count) calls over the bar: \(violations.prefix(20))")
            if attempt == 2 {
                for violation in violations { Issue.record(Comment(rawValue: violation)) }
            }
        }
    }

    /// Builds, cancels, retries, repairs and purges the graph; returns the calls over the bar.
    func exercise(_ server: Server) async throws -> [String] {
        var violations: [String] = []
        let coordinator = server.coordinator
        let chain = try await Self.submitChain(coordinator, prefix: "c", length: Self.chainLength)
        let fan = try await Self.submitFan(coordinator, root: "w", children: Self.fanOut, workflow: "wide")
        var report: [String] = []
        var worst = ("", 0)
        func record(_ operation: String, _ calls: (scripts: [(String, Int)], other: (String, Int))) {
            let longest = calls.scripts.first ?? ("none", 0)
            let median = calls.scripts.isEmpty ? 0 : calls.scripts[calls.scripts.count / 2].1
            let total = calls.scripts.reduce(0) { $0 + $1.1 }
            report.append("\(operation): \(calls.scripts.count) script calls over 1 ms (\(total / 1000) ms in all, median \(median) µs), longest \(longest.0) \(longest.1) µs; longest other command \(calls.other.0) \(calls.other.1) µs")
            for call in calls.scripts where call.1 >= Self.barMicroseconds {
                violations.append("\(operation): \(call.0) ran \(call.1) µs (bar \(Self.barMicroseconds) µs)")
            }
            if longest.1 > worst.1 { worst = (operation + " / " + longest.0, longest.1) }
        }

        record("cancel chain root", try await server.calls {
            let value = try await coordinator.tasks.cancel(task: "c0")
            #expect(value == .cancelled)
        })
        #expect(try await server.count(.cancelled) == Self.chainLength)

        record("retry chain root", try await server.calls {
            let value = try await coordinator.tasks.retry(task: "c0")
            #expect(value.count == Self.chainLength)
        })
        #expect(try await server.count(.cancelled) == 0)

        record("cancel workflow", try await server.calls {
            let outcome = try await coordinator.tasks.cancel(workflow: "wide")
            #expect(outcome.cancelled == fan.count && outcome.requested == 0)
        })
        #expect(try await server.count(.cancelled) == fan.count)

        record("retry fan root", try await server.calls {
            let value = try await coordinator.tasks.retry(task: "w")
            #expect(value.count == fan.count)
        })

        _ = try await server.client.send("HDEL", RedisArgument(coordinator.keys.task("c0")), "spec")
        record("doctor repair", try await server.calls {
            let report = try await coordinator.maintenance.repair()
            #expect(report.problems.count == 1)
        })
        #expect(try await server.count(.failed) == 1)
        #expect(try await server.count(.cancelled) == Self.chainLength - 1)

        record("cancel fan root", try await server.calls {
            let value = try await coordinator.tasks.cancel(task: "w")
            #expect(value == .cancelled)
        })
        #expect(try await server.count(.cancelled) == Self.chainLength - 1 + fan.count)

        record("purge", try await server.calls {
            let value = try await coordinator.maintenance.purge(finished: chain + fan)
            #expect(value == chain.count + fan.count)
        })
        #expect(try await server.client.send("DBSIZE").decodeInt() < 20)

        // 20,000 tasks that fall due at once, a second after they were submitted (in batches of
        // 500), each made one of them by `change`; the maintenance pass that handles them all.
        func fallDue(_ operation: String, prefix: String, after: [String] = [], _ change: (inout TaskSpec) -> Void) async throws -> PromoteResult {
            let tasks = (0..<20_000).map { index -> TaskSpec in
                var task = Self.noop(prefix + String(index), after: after)
                change(&task)
                return task
            }
            for start in stride(from: 0, to: tasks.count, by: 500) {
                _ = try await coordinator.tasks.submit(Array(tasks[start..<(start + 500)]))
            }
            try await Task.sleep(for: .milliseconds(1200))
            var result: PromoteResult?
            record(operation, try await server.calls { result = try await coordinator.maintenance.promote(maxCalls: 1000) })
            return try #require(result)
        }

        // Delayed tasks (a backlog of retries after an outage): made ready in calls of `promoteBatch`.
        #expect(try await fallDue("promote 20,000 due tasks", prefix: "d") { $0.delay = .seconds(1) }.promoted == 20_000)
        // Tasks whose expiry passes while they wait for a prerequisite: ended CANCELLED
        // (`expired`) in calls of `expireBatch`.
        _ = try await coordinator.tasks.submit([Self.noop("gate")])
        #expect(try await fallDue("expire 20,000 tasks at once", prefix: "e", after: ["gate"]) { $0.expires = .after(.seconds(1)) }.expired == 20_000)

        // A 50,000-task workflow, submitted the way docs/guarantees.md recommends (batches of
        // 500: a submit's size is the caller's choice), then cancelled as a whole.
        let big = (0..<50_000).map { Self.noop("b" + String($0), after: $0 == 0 ? [] : ["b0"]) }
        for start in stride(from: 0, to: big.count, by: 500) {
            _ = try await coordinator.tasks.submit(Array(big[start..<(start + 500)]), workflow: "big")
        }
        record("cancel 50,000-task workflow", try await server.calls {
            let value = try await coordinator.tasks.cancel(workflow: "big")
            #expect(value.cancelled == 50_000)
        })
        // A 50,000-task run (a chain of 25,000 and a fan-out of 25,000) is submitted in calls of 100
        // (TaskStore.submitInChunks): asserted under the bar like everything above.
        var runTasks: [TaskSpec] = [Self.noop("r0")]
        for i in 1..<50_000 {
            let prerequisite = i < 25_000 ? "r" + String(i - 1) : "r0"
            runTasks.append(Self.noop("r" + String(i), after: [prerequisite]))
        }
        record("submit a 50,000-task run", try await server.calls {
            let submitted = try await coordinator.tasks.submit(runTasks, run: RunOptions(id: "bigrun", definition: "bounded"))
            #expect(submitted.tasks.count == 50_000)
        })
        #expect(try await coordinator.tasks.run("bigrun")?.total == 50_000)
        // Reported, not asserted: one submit call of 50,000 standalone tasks is not bounded (its size is the
        // caller's choice), and the Lua garbage it leaves is swept by Redis in the calls after it
        // (a GC step every 50 scripts), so it is measured last.
        let huge = (0..<50_000).map { Self.noop("h" + String($0), after: $0 == 0 ? [] : ["h0"]) }
        let submitted = try await server.calls { _ = try await coordinator.tasks.submit(huge, workflow: "huge") }
        report.append("submit 50,000 standalone tasks in one call: longest \(submitted.scripts.first?.0 ?? "") \(submitted.scripts.first?.1 ?? 0) µs (not bounded)")
        for line in report { print("bounded scripts: " + line) }
        print("bounded scripts: longest script call overall \(worst.1) µs (\(worst.0)); bar \(Self.barMicroseconds) µs")
        return violations
    }
}
