import Foundation
import Jobq
import JobqBenchmarkSupport
import JobqRedis
import JobqTestSupport

/// The dashboard's live parts (issue 13), each beside a reference in the same process:
///
/// 1. `graph`: the run page's graph section for a 2,000-task run (model, layered layout, SVG),
///    beside the same graph as `jobq graph`'s DOT text (built, ordered and printed, no layout).
///    `--out FILE` also writes a standalone page of it, to time the browser's paint
///    (docs/dashboard.md says how).
/// 2. `fanout`: one dashboard's event hub feeding 100 tabs, against a private redis-server:
///    Redis commands (INFO commandstats) per transition, beside 100 readers with an `XREAD
///    BLOCK` loop each (one reader per tab).
/// 3. `pages` (only when named): every page and API twin's server time (p50/p95, through the
///    dashboard's router) on a namespace of `--tasks` tasks (runs of 1,000; `--running` of them
///    RUNNING) seeded through submit.lua and claim.lua, beside the same pages on a namespace of
///    one run of one task; then the workers page and its twin on a namespace whose workers
///    register no timeout deadlines (as before they did: every running task's record is read).
///
/// `JobqBenchmarks dashboard [graph] [fanout] [pages] [--tabs N] [--transitions N] [--out FILE]
/// [--tasks N] [--running N] [--samples N]`.
enum DashboardBenchmark {
    static func run(_ arguments: [String]) async throws {
        var parts: Set<String> = []
        var tabs = 100
        var transitions = 500
        var out: String?
        var tasks = 1_000_000, running = 10_000, samples = 30
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "graph", "fanout", "pages": parts.insert(argument)
            case "--tasks": tasks = Int(iterator.next() ?? "") ?? 0
            case "--running": running = Int(iterator.next() ?? "") ?? -1
            case "--samples": samples = Int(iterator.next() ?? "") ?? 0
            case "--tabs": tabs = Int(iterator.next() ?? "") ?? 0
            case "--transitions": transitions = Int(iterator.next() ?? "") ?? 0
            case "--out": out = iterator.next()
            default:
                throw BenchmarkError("usage: JobqBenchmarks dashboard [graph] [fanout] [pages] [--tabs N (100)] [--transitions N (500)] [--out FILE] [--tasks N (1000000)] [--running N (10000)] [--samples N (30)]; unknown argument \(argument)")
            }
        }
        guard tabs > 0, transitions > 0, tasks >= 1000, running >= 0, running <= tasks / 10, samples > 0 else {
            throw BenchmarkError("--tabs, --transitions and --samples must be positive, --tasks at least 1000, --running at most a tenth of --tasks")
        }
        if parts.isEmpty { parts = ["graph", "fanout"] }
        print("Dashboard live parts (\(ProcessInfo.processInfo.activeProcessorCount) cores; load average \(loadAverage()))")
        if parts.contains("graph") { try graph(out: out) }
        if parts.contains("fanout") { try await fanOut(tabs: tabs, transitions: transitions) }
        if parts.contains("pages") { try await pages(tasks: tasks, running: running, samples: samples) }
        print("")
        print("reproduce: swift run -c release --package-path Benchmarks JobqBenchmarks " + (["dashboard"] + arguments).joined(separator: " "))
    }

    static func graph(out: String?) throws {
        let layers = 40, width = 50
        print("")
        print("run graph of \(layers * width) tasks (\(layers) layers of \(width), 2 prerequisites each): median of 15, alternated")
        var section: [Double] = []
        var dot: [Double] = []
        var html = ""
        var text = ""
        for _ in 0..<15 {
            section.append(seconds { html = DashboardProbe.graphSection(layers: layers, width: width) })
            dot.append(seconds { text = DashboardProbe.graphDOT(layers: layers, width: width) })
        }
        print("  " + "graph section (layout + SVG)".padding(36) + String(format: "%8.1f ms", median(section) * 1000) + "   \(grouped(Double(html.utf8.count))) bytes")
        print("  " + "reference: jobq graph's DOT text".padding(36) + String(format: "%8.1f ms", median(dot) * 1000) + "   \(grouped(Double(text.utf8.count))) bytes")
        if let out {
            let page = "<!doctype html><html><head><meta charset=\"utf-8\"><style>:root{--line:#ccc;--panel:#fff;--muted:#888;--fg:#222;--failed:#c00;--done:#2a2;--running:#27c;--pending:#999}"
                + ".node rect{fill:var(--panel);stroke:var(--line)}.node.state-DONE rect{fill:var(--done)}.node.state-RUNNING rect{fill:var(--running)}.node.state-PENDING rect{fill:var(--pending)}.node text{fill:#fff;font-size:11px}"
                + DashboardProbe.graphCSS + "</style></head><body>" + html + "</body></html>"
            try page.write(toFile: out, atomically: true, encoding: .utf8)
            print("  wrote \(out)")
        }
    }

    static func fanOut(tabs: Int, transitions: Int) async throws {
        print("")
        print("\(tabs) tabs following the transition stream while \(transitions) one-task submissions are made")
        try await withPrivateRedis { redis in try await fanOut(redis: redis, tabs: tabs, transitions: transitions) }
    }

    static func fanOut(redis: RedisClient, tabs: Int, transitions: Int) async throws {
        func commands() async throws -> [String: Int] {
            let text = try await redis.send("INFO", "commandstats").decodeString()
            var calls: [String: Int] = [:]
            for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
                let name = line.dropFirst("cmdstat_".count).prefix { $0 != ":" }
                if let range = line.range(of: "calls="), let value = Int(line[range.upperBound...].prefix { $0.isNumber }) { calls[String(name)] = value }
            }
            return calls
        }
        func report(_ label: String, _ received: [Int], _ before: [String: Int], _ after: [String: Int], _ elapsed: Double) {
            let xread = (after["xread"] ?? 0) - (before["xread"] ?? 0)
            let reads = ["xread", "xrange", "xrevrange", "hmget", "hget"].reduce(0) { $0 + (after[$1] ?? 0) - (before[$1] ?? 0) }
            let complete = received.allSatisfy { $0 >= transitions }
            print("  " + label.padding(40) + "XREAD \(grouped(Double(xread)).leftPadding(7))  (\(String(format: "%.2f", Double(xread) / Double(transitions))) per transition)   stream reads \(grouped(Double(reads)).leftPadding(7))   \(String(format: "%.2f", elapsed)) s   every tab got all: \(complete)")
        }
        var before = try await commands()
        var elapsed = 0.0
        var received: [Int] = []
        elapsed = try await asyncSeconds { received = try await DashboardProbe.fanOut(redis: redis, namespace: "fan-hub", subscribers: tabs, transitions: transitions) }
        var after = try await commands()
        report("one hub, \(tabs) tabs", received, before, after, elapsed)
        before = after
        elapsed = try await asyncSeconds { received = try await DashboardProbe.separateReaders(redis: redis, namespace: "fan-sep", followers: tabs, transitions: transitions) }
        after = try await commands()
        report("reference: \(tabs) readers, a loop each", received, before, after, elapsed)
    }

    /// p50/p95 server time of every page and API twin, on a big namespace and on a (nearly)
    /// empty one, side by side.
    static func pages(tasks: Int, running: Int, samples: Int) async throws {
        print("")
        print("pages and API twins: server time through the dashboard's router, \(samples) samples each, interleaved")
        try await withPrivateRedis { redis in
            let clock = ContinuousClock()
            let start = clock.now
            let big = try await DashboardProbe.seed(
                redis: redis, namespace: "pages-big", runs: tasks / 1000, tasksPerRun: 1000, running: running, workers: 100, queues: 10
            ) { done in
                if done % 100_000 == 0 { print("  seeded \(grouped(Double(done))) tasks, \(String(format: "%.0f", secondsSince(start))) s") }
            }
            let memory = try await redis.send("INFO", "memory").decodeString().split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory_human:") } ?? ""
            print("  seeded \(grouped(Double(big.tasks))) tasks in \(tasks / 1000) runs, \(grouped(Double(big.running))) RUNNING, in \(String(format: "%.0f", secondsSince(start))) s (\(memory))")
            let small = try await DashboardProbe.seed(redis: redis, namespace: "pages-empty", runs: 1, tasksPerRun: 1, running: 1, workers: 1, queues: 1)
            let bigPaths = DashboardProbe.paths(big), smallPaths = DashboardProbe.paths(small)
            // one warm-up round each (EVALSHA loads, first allocations), not counted
            _ = try await DashboardProbe.pageTimes(redis: redis, namespace: "pages-big", paths: bigPaths, samples: 1)
            _ = try await DashboardProbe.pageTimes(redis: redis, namespace: "pages-empty", paths: smallPaths, samples: 1)
            let bigTimes = try await DashboardProbe.pageTimes(redis: redis, namespace: "pages-big", paths: bigPaths, samples: samples)
            let smallTimes = try await DashboardProbe.pageTimes(redis: redis, namespace: "pages-empty", paths: smallPaths, samples: samples)
            print("  " + "page".padding(34) + "\(grouped(Double(big.tasks))) tasks: p50      p95".leftPadding(30) + "   empty: p50      p95")
            for (bigPath, smallPath) in zip(bigPaths, smallPaths) {
                let label = bigPath.replacingOccurrences(of: big.run, with: "RUN").replacingOccurrences(of: big.task, with: "TASK")
                func cell(_ values: [Double]) -> String {
                    String(format: "%8.1f ms %8.1f ms", percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000)
                }
                print("  " + label.padding(34) + cell(bigTimes[bigPath] ?? []).leftPadding(30) + "   " + cell(smallTimes[smallPath] ?? []))
            }
            // The reference: the same workers registered without their tasks' timeout deadlines
            // (as workers before them did), so the workers page reads every running task's
            // record to find the overdue ones — the page's cost before the deadlines.
            let legacy = try await DashboardProbe.seed(
                redis: redis, namespace: "pages-legacy", runs: max(running / 100, 1), tasksPerRun: 1000, running: running, workers: 100, queues: 10, deadlines: false
            )
            let legacyPaths = ["/workers", "/api/v1/workers"]
            _ = try await DashboardProbe.pageTimes(redis: redis, namespace: "pages-legacy", paths: legacyPaths, samples: 1)
            let legacyTimes = try await DashboardProbe.pageTimes(redis: redis, namespace: "pages-legacy", paths: legacyPaths, samples: samples)
            print("  reference: the \(grouped(Double(legacy.running))) RUNNING tasks' workers registered without deadlines (\(grouped(Double(legacy.tasks))) tasks):")
            for path in legacyPaths {
                let values = legacyTimes[path] ?? []
                print("  " + (path + " (records read)").padding(34) + String(format: "%8.1f ms %8.1f ms", percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000).leftPadding(30))
            }
        }
    }

    /// `body` with a client of a private redis-server, stopped after it (also when it throws).
    static func withPrivateRedis(_ body: (RedisClient) async throws -> Void) async throws {
        let server = try await RedisServerFixture.start()
        let redis = server.makeClient { $0.commandTimeout = .seconds(120) }
        do {
            try await body(redis)
        } catch {
            await redis.close()
            await server.stop()
            throw error
        }
        await redis.close()
        await server.stop()
    }

    /// The `fraction` quantile (nearest rank) of `values`.
    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))]
    }

    static func secondsSince(_ start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func seconds(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        body()
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func asyncSeconds(_ body: () async throws -> Void) async throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}
