import Foundation
import Jobq
import JobqCore
import JobqRedis
import JobqTestSupport
import JobqBenchmarkSupport

/// Workflow runs (issue 8's benchmarks), each part beside its reference in the same process and
/// against the same private redis-server, so that the load of the shared machine hits both alike:
///
/// 1. `window`: what a run, and its window check at every claim, cost in Redis CPU per task —
///    N no-op tasks submitted (one submission), claimed and completed in batches, standalone
///    beside the same tasks as one run without a window, with a window that never binds, with
///    a window the claims fill exactly, and with a window that a second batch in flight finds
///    full (its tasks are parked and queued again).
/// 2. `list`: `jobq runs` (one `runs` script call per page, as the CLI makes) on a namespace of
///    100,000 one-task runs: first pages, pages deep in the index by cursor, and a `--state`
///    page that few runs match; plus Redis memory per run beside a standalone task's.
/// 3. `drain`: one 10,000-task fan-out/fan-in run submitted and drained by claim/complete
///    batches from this process, beside the same graph of standalone tasks.
///
/// `JobqBenchmarks runs [window|list|drain] [--tasks N] [--runs N]`.
enum RunBenchmark {
    static func run(_ arguments: [String]) async throws {
        var parts: Set<String> = []
        var tasks = 20_000
        var runs = 100_000
        var rounds = 1
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "window", "list", "drain": parts.insert(argument)
            case "--tasks": tasks = try positive(iterator.next(), argument)
            case "--runs": runs = try positive(iterator.next(), argument)
            case "--rounds": rounds = try positive(iterator.next(), argument)
            default:
                throw BenchmarkError("usage: JobqBenchmarks runs [window] [list] [drain] [--tasks N (20,000)] [--runs N (100,000)] [--rounds N (1): the window table's variants, N times in turn]; unknown argument \(argument)")
            }
        }
        if parts.isEmpty { parts = ["window", "list", "drain"] }

        let server = try await RedisServerFixture.start()
        let redis = server.makeClient { $0.commandTimeout = .seconds(120) }
        let stats = ServerStats(redis: redis)
        let version = try await stats.info("server")["redis_version"] ?? "?"
        print("Workflow runs, one private redis-server \(version) on a unix socket (\(ProcessInfo.processInfo.activeProcessorCount) cores; load average \(loadAverage()))")
        do {
            if parts.contains("window") { try await windowCost(redis, stats, tasks: tasks, rounds: rounds) }
            if parts.contains("list") { try await listing(server, stats, runs: runs) }
            if parts.contains("drain") { try await bigRun(redis, stats) }
        } catch {
            await redis.close()
            await server.stop()
            throw error
        }
        print("")
        print("reproduce: swift run -c release --package-path Benchmarks JobqBenchmarks " + (["runs"] + arguments).joined(separator: " "))
        await redis.close()
        await server.stop()
    }

    private static func positive(_ text: String?, _ option: String) throws -> Int {
        guard let text, let value = Int(text), value > 0 else { throw BenchmarkError("\(option) wants a positive number") }
        return value
    }

    // MARK: 1. The window check

    /// How the tasks of one variant are submitted and claimed.
    private struct Variant {
        var name: String
        /// `nil`: standalone tasks; otherwise the run's window (`.some(nil)`: a run without one).
        var run: Int??
        /// Claim batches held at once: 2 means the next batch is claimed before the previous is
        /// completed (a worker whose concurrency exceeds the window).
        var inFlight = 1
    }

    private static func windowCost(_ redis: RedisClient, _ stats: ServerStats, tasks: Int, rounds: Int) async throws {
        let batch = 64
        let variants = [
            Variant(name: "(a) standalone tasks", run: nil),
            Variant(name: "(b) one run, no window", run: .some(nil)),
            Variant(name: "(c) one run, window 100,000 (never binds)", run: .some(RunOptions.maxWindow)),
            Variant(name: "(d) window 64, 1 batch of 64 in flight", run: .some(64)),
            Variant(name: "(e) window 64, 2 batches of 64 in flight", run: .some(64), inFlight: 2),
        ]
        print("")
        print("1. The window check: \(grouped(Double(tasks))) no-op tasks, one submission, claimed and completed in batches of \(batch)")
        print("   (the largest window accepted is RunOptions.maxWindow = \(grouped(Double(RunOptions.maxWindow))); (c) uses it)")
        print("   " + "variant".padding(44) + "submit".leftPadding(8) + "drain".leftPadding(10) + "in scripts".leftPadding(12)
            + "total".leftPadding(8) + "× (a)".leftPadding(7) + "drain × (a)".leftPadding(13) + "wall s".leftPadding(8) + "short".leftPadding(8))
        print("   " + "".padding(44) + "".leftPadding(8) + "".leftPadding(10) + "(wall)".leftPadding(12) + "".leftPadding(8) + "".leftPadding(7) + "".leftPadding(13) + "".leftPadding(8) + "claims".leftPadding(8))
        var reference: (total: Double, lease: Double)?
        for round in 0..<rounds {
            if round > 0 { reference = nil }
            for variant in variants {
                let namespace = "bench-window-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
                let probe = try EngineProbe(redis: redis, namespace: namespace)
                let client = try JobqClient(configuration: redis.configuration, namespace: namespace)
                let specs = (0..<tasks).map { _ in TaskSpec(handler: "noop", payload: Array("{}".utf8)) }
                let clock = ContinuousClock()
                let started = clock.now
                let submit = try await stats.cpu {
                    if let window = variant.run {
                        _ = try await client.submit(specs, run: RunOptions(definition: "bench", window: window))
                    } else {
                        _ = try await client.submit(specs)
                    }
                }
                // The drain is measured as a whole (INFO between calls would add its own cost to each
                // batch); the script time comes from commandstats.
                var short = 0
                var done = 0
                var held: [[ClaimedTask]] = [] // claimed batches not completed yet, oldest first
                _ = try await redis.send("CONFIG", "RESETSTAT")
                let drain = try await stats.cpu {
                    while true {
                        let claimed = try await probe.claim(count: batch)
                        if claimed.count < batch && done + held.reduce(0, { $0 + $1.count }) + claimed.count < tasks { short += 1 }
                        if !claimed.isEmpty { held.append(claimed) }
                        if held.count >= variant.inFlight || (claimed.isEmpty && !held.isEmpty) {
                            let oldest = held.removeFirst()
                            _ = try await probe.complete(oldest.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
                            done += oldest.count
                        } else if claimed.isEmpty {
                            break // nothing claimed and nothing running: the queue and the run's parked list are empty
                        }
                    }
                }
                let inScripts = try await stats.scriptMicroseconds()
                let wall = seconds(clock.now - started)
                if variant.run != nil {
                    let run = try await onlyRun(client)
                    let left = try await redis.send("LLEN", RedisArgument(probe.keys.prefix + "wf:" + run + ":parked")).int ?? 0
                    let info = try await client.run(run)
                    guard left == 0, info.state == .done else { throw BenchmarkError("\(variant.name): the run is \(info.state.rawValue) with \(left) tasks parked") }
                }
                await client.close()
                guard done == tasks else { throw BenchmarkError("\(variant.name): completed \(done) of \(tasks) tasks") }
                let perTask = { (cpu: Double) in cpu * 1e6 / Double(tasks) }
                let total = perTask(submit + drain)
                if reference == nil { reference = (total, perTask(drain)) }
                print("   " + variant.name.padding(44)
                    + String(format: "%.1f", perTask(submit)).leftPadding(8) + String(format: "%.1f", perTask(drain)).leftPadding(10)
                    + String(format: "%.1f", inScripts / Double(tasks)).leftPadding(12) + String(format: "%.1f", total).leftPadding(8)
                    + String(format: "%.2f", total / reference!.total).leftPadding(7) + String(format: "%.2f", perTask(drain) / reference!.lease).leftPadding(13)
                    + String(format: "%.2f", wall).leftPadding(8) + "\(short)".leftPadding(8))
            }
        }
        print("   µs of Redis CPU (INFO cpu, user + sys) per task; drain = claim + complete; in scripts: the drain's EVALSHA time")
        print("   (commandstats, wall clock inside Redis: above the CPU when Redis waits for a core); short claims: fewer than")
        print("   \(batch) tasks while more were queued (the window was full: those tasks were parked); wall s includes this process")
    }

    /// The id of the one run in `client`'s namespace.
    private static func onlyRun(_ client: JobqClient) async throws -> String {
        guard let run = try await client.runs(limit: 1).runs.first else { throw BenchmarkError("no run was created") }
        return run.id
    }

    // MARK: 2. `jobq runs` on 100,000 runs

    private static func listing(_ server: RedisServerFixture, _ stats: ServerStats, runs: Int) async throws {
        print("")
        print("2. jobq runs: \(grouped(Double(runs))) runs of one task each, pages of 50 (one runs.lua call each, as the CLI makes)")
        var configuration = server.configuration
        configuration.commandTimeout = .seconds(120)
        let redis = RedisClient(configuration: configuration)

        // The reference: as many standalone tasks (submitted in batches of 1,000), for memory.
        let standalone = try JobqClient(configuration: configuration, namespace: "bench-standalone")
        _ = try await redis.send("MEMORY", "PURGE")
        let memoryBefore = try await stats.usedMemory()
        for start in stride(from: 0, to: runs, by: 1000) {
            _ = try await standalone.submit((start..<min(start + 1000, runs)).map { _ in TaskSpec(handler: "noop", payload: Array("{}".utf8)) })
        }
        let memoryStandalone = try await stats.usedMemory()
        let eventsStandalone = try await streamBytes(redis, "jobq:{bench-standalone}:events")
        await standalone.close()

        // 100,000 runs: one submission each, 64 in flight (the client pipelines concurrent calls).
        let client = try JobqClient(configuration: configuration, namespace: "bench-runs")
        let clock = ContinuousClock()
        let started = clock.now
        let every = max(1, runs / 100)
        var marked: [String] = []
        let cpu = try await stats.cpu {
            marked = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var found: [String] = []
                var next = 0
                var finished = 0
                while finished < runs {
                    while next < runs && next - finished < 64 {
                        let index = next
                        group.addTask {
                            let run = try await client.submit([TaskSpec(id: "only", handler: "noop", payload: Array("{}".utf8))], run: RunOptions(definition: "bench"))
                            return (index, run.id)
                        }
                        next += 1
                    }
                    guard let (index, id) = try await group.next() else { break }
                    finished += 1
                    if index % every == every / 2 { found.append(id) }
                }
                return found
            }
        }
        let submitWall = seconds(clock.now - started)
        let memoryRuns = try await stats.usedMemory()
        let eventsRuns = try await streamBytes(redis, "jobq:{bench-runs}:events")
        // Without each namespace's audit stream, which is capped (MAXLEN ~ 20000 entries) and so
        // not a cost per run.
        let perRun = Double(memoryRuns - memoryStandalone - eventsRuns) / Double(runs)
        let perTask = Double(memoryStandalone - memoryBefore - eventsStandalone) / Double(runs)
        print(String(format: "   submitted in %.1f s (", submitWall) + grouped(Double(runs) / submitWall) + String(format: " runs/s, %.1f µs Redis CPU per run)", cpu * 1e6 / Double(runs)))
        print(String(format: "   Redis memory (used_memory): %.0f B per run of one task, %.0f B per standalone task, without the capped audit stream (%d / %d kB)", perRun, perTask, eventsRuns / 1024, eventsStandalone / 1024))
        if let sample = marked.first {
            let prefix = "jobq:{bench-runs}:"
            var parts: [String] = []
            for (label, key) in [("wf:<run>", "wf:" + sample), ("wf:<run>:tasks", "wf:" + sample + ":tasks"), ("t:<run>/only", "t:" + sample + "/only")] {
                let bytes = try await redis.send("MEMORY", "USAGE", RedisArgument(prefix + key)).int ?? 0
                parts.append("\(label) \(bytes) B")
            }
            print("   MEMORY USAGE of one run's keys: " + parts.joined(separator: ", "))
        }

        // About 1 run in `every` cancelled, spread over the index: what the `--state` pages find.
        for id in marked { _ = try await client.cancel(workflow: id) }
        let cancelled = try await client.run(marked[0]).state
        guard cancelled == .cancelled else { throw BenchmarkError("a cancelled run is \(cancelled.rawValue)") }

        // Walk the whole index once (pages of 50), keeping every cursor.
        var cursors: [RunCursor] = []
        var walk: [Double] = []
        var seen = 0
        var cursor: RunCursor?
        repeat {
            let t0 = clock.now
            let page = try await client.runs(after: cursor, limit: 50)
            walk.append(milliseconds(clock.now - t0))
            seen += page.runs.count
            cursor = page.next
            if let cursor { cursors.append(cursor) }
        } while cursor != nil
        guard seen == runs else { throw BenchmarkError("the walk saw \(seen) runs of \(runs)") }

        // 200 page reads: 50 first pages, 100 at cursors spread over the index, 50 cancelled-only.
        var first: [Double] = [], deep: [Double] = [], filtered: [Double] = []
        var filteredFound = 0
        var filteredCursor: RunCursor?
        _ = try await redis.send("CONFIG", "RESETSTAT")
        for _ in 0..<50 {
            let t0 = clock.now
            _ = try await client.runs(limit: 50)
            first.append(milliseconds(clock.now - t0))
        }
        for i in 0..<100 {
            let at = cursors[(i * 7919) % cursors.count]
            let t0 = clock.now
            _ = try await client.runs(after: at, limit: 50)
            deep.append(milliseconds(clock.now - t0))
        }
        for _ in 0..<50 {
            let t0 = clock.now
            let page = try await client.runs(state: .cancelled, after: filteredCursor, limit: 50)
            filtered.append(milliseconds(clock.now - t0))
            filteredFound += page.runs.count
            filteredCursor = page.next
        }
        let scriptStats = try await stats.scriptCalls()
        await client.close()
        await redis.close()

        print("   " + "page of 50".padding(52) + "reads".leftPadding(6) + "p50 ms".leftPadding(9) + "p95 ms".leftPadding(9) + "max ms".leftPadding(9))
        for (label, samples) in [
            ("first page", first),
            ("at cursors spread over the index", deep),
            ("--state cancelled (1 run in \(every) matches)", filtered),
            ("(the whole index, walked once by cursor)", walk),
        ] {
            print("   " + label.padding(52) + "\(samples.count)".leftPadding(6)
                + String(format: "%.2f", percentile(samples, 0.5)).leftPadding(9)
                + String(format: "%.2f", percentile(samples, 0.95)).leftPadding(9)
                + String(format: "%.2f", percentile(samples, 1.0)).leftPadding(9))
        }
        let all = first + deep + filtered
        print(String(format: "   the 200 reads: p95 %.2f ms (target < 50 ms); in the script %.0f µs per call on average (commandstats)", percentile(all, 0.95), scriptStats))
        print("   the --state pages found \(filteredFound) runs in 50 calls (each looks at ≤ 2,000 index entries, so a page may hold fewer than 50)")
    }

    // MARK: 3. A 10,000-task run

    private static func bigRun(_ redis: RedisClient, _ stats: ServerStats) async throws {
        let width = 9_998
        let batch = 500
        print("")
        print("3. A run of \(grouped(Double(width + 2))) tasks (1 → \(grouped(Double(width))) → 1), submitted in one call and drained in claim/complete batches of \(batch)")
        print("   " + "variant".padding(30) + "submit s".leftPadding(10) + "drain s".leftPadding(9) + "tasks/s".leftPadding(9)
            + "submit µs".leftPadding(11) + "drain µs".leftPadding(10) + "total µs".leftPadding(10) + "× standalone".leftPadding(14))
        var reference: Double?
        for asRun in [false, true] {
            let namespace = "bench-big-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let probe = try EngineProbe(redis: redis, namespace: namespace)
            let client = try JobqClient(configuration: redis.configuration, namespace: namespace)
            // A run's keys resolve within it; standalone ids are global, so they get a prefix.
            let p = asRun ? "" : "big-"
            var specs = [TaskSpec(id: p + "root", handler: "noop")]
            specs += (0..<width).map { TaskSpec(id: p + "m\($0)", handler: "noop", prerequisites: [Prerequisite(p + "root")]) }
            specs.append(TaskSpec(id: p + "sink", handler: "noop", prerequisites: (0..<width).map { Prerequisite(p + "m\($0)") }))
            let clock = ContinuousClock()
            var t0 = clock.now
            let submitCPU = try await stats.cpu {
                if asRun {
                    _ = try await client.submit(specs, run: RunOptions(definition: "big"))
                } else {
                    _ = try await client.submit(specs)
                }
            }
            let submitWall = seconds(clock.now - t0)
            t0 = clock.now
            var done = 0
            let drainCPU = try await stats.cpu {
                while true {
                    let claimed = try await probe.claim(count: batch)
                    if claimed.isEmpty { break }
                    _ = try await probe.complete(claimed.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
                    done += claimed.count
                }
            }
            let drainWall = seconds(clock.now - t0)
            guard done == specs.count else { throw BenchmarkError("drained \(done) of \(specs.count) tasks") }
            if asRun {
                let info = try await client.run(try await onlyRun(client))
                guard info.state == .done else { throw BenchmarkError("the run ended \(info.state.rawValue)") }
            }
            await client.close()
            let n = Double(specs.count)
            let total = (submitCPU + drainCPU) * 1e6 / n
            if reference == nil { reference = total }
            print("   " + (asRun ? "one run" : "standalone tasks").padding(30)
                + String(format: "%.3f", submitWall).leftPadding(10) + String(format: "%.3f", drainWall).leftPadding(9)
                + grouped(n / drainWall).leftPadding(9) + String(format: "%.1f", submitCPU * 1e6 / n).leftPadding(11)
                + String(format: "%.1f", drainCPU * 1e6 / n).leftPadding(10) + String(format: "%.1f", total).leftPadding(10)
                + String(format: "%.2f", total / reference!).leftPadding(14))
        }
        print("   µs of Redis CPU per task; drain tasks/s from this one process")
    }

    // MARK: Helpers

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func milliseconds(_ duration: Duration) -> Double { seconds(duration) * 1000 }

    /// The value at fraction `p` of `samples` (nearest rank; `1.0` is the maximum).
    private static func percentile(_ samples: [Double], _ p: Double) -> Double {
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    /// The exact size of a stream key (MEMORY USAGE with every entry looked at).
    private static func streamBytes(_ redis: RedisClient, _ key: String) async throws -> Int {
        try await redis.send("MEMORY", "USAGE", RedisArgument(key), "SAMPLES", "0").int ?? 0
    }

    private static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

/// The server's own counters: CPU (`INFO cpu`, user + sys, which includes parsing and networking),
/// memory and script time, read before and after what is measured.
private struct ServerStats {
    let redis: RedisClient

    func info(_ section: String) async throws -> [String: String] {
        let text = try await redis.send("INFO", RedisArgument(section)).decodeString()
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    func cpuSeconds() async throws -> Double {
        let cpu = try await info("cpu")
        return (Double(cpu["used_cpu_user"] ?? "") ?? 0) + (Double(cpu["used_cpu_sys"] ?? "") ?? 0)
    }

    /// Redis CPU seconds spent while `body` ran.
    func cpu(_ body: () async throws -> Void) async throws -> Double {
        let before = try await cpuSeconds()
        try await body()
        return try await cpuSeconds() - before
    }

    /// µs spent in EVALSHA since the last CONFIG RESETSTAT.
    func scriptMicroseconds() async throws -> Double {
        guard let line = try await info("commandstats")["cmdstat_fcall"] else { return 0 }
        for part in line.split(separator: ",") where part.hasPrefix("usec=") {
            return Double(part.dropFirst("usec=".count)) ?? 0
        }
        return 0
    }

    func usedMemory() async throws -> Int {
        Int(try await info("memory")["used_memory"] ?? "") ?? 0
    }

    /// Average µs per EVALSHA call since the last CONFIG RESETSTAT.
    func scriptCalls() async throws -> Double {
        guard let line = try await info("commandstats")["cmdstat_fcall"] else { return 0 }
        for part in line.split(separator: ",") where part.hasPrefix("usec_per_call=") {
            return Double(part.dropFirst("usec_per_call=".count)) ?? 0
        }
        return 0
    }
}
