import Foundation
import JobqCore
import JobqRedis
import JobqTestSupport
import JobqBenchmarkSupport

/// What flow control costs per task, side by side in one run: the batched no-op life (batches of
/// 100) with no limits, with a concurrency limit on 1,000 keys, with a rate limit on 1,000 keys,
/// with an `until_finished` unique key per task, and with fair keys over 1,000 keys (claimed in
/// turns). The limits never bind (limit 10,000; 10,000
/// a minute), so the figure is the cost of *enforcing* them; the keys go round-robin, so a claim
/// of 100 meets 100 keys (the dearest case: nothing shared within a call).
///
/// Every variant runs once per round, each round in a rotated order (a drift of the shared
/// machine falls on all alike); the table gives each round's figure and the median.
/// `--rounds N` (default 5), `--tasks N` (default 20,000), `--only off,rate` runs just those
/// variants (off, concurrency, rate, unique, fair: for profiling one path), `--commands` adds the Redis commands
/// each variant makes per task (`INFO commandstats`), which is where the cost is found.
enum LimitsBenchmark {
    enum Variant: String, CaseIterable {
        case off = "no limits"
        case concurrency = "concurrency limits, 1,000 keys"
        case rate = "rate limits, 1,000 keys"
        case unique = "unique until_finished, own key each"
        case fair = "fair keys, 1,000 keys"

        /// The name `--only` takes.
        var shortName: String {
            switch self {
            case .off: "off"
            case .concurrency: "concurrency"
            case .rate: "rate"
            case .unique: "unique"
            case .fair: "fair"
            }
        }

        /// The task `index` of the variant (payload `{"k": index % 1000}`).
        func spec(_ index: Int) -> TaskSpec {
            var spec = TaskSpec(handler: "noop", payload: Array("{\"k\":\(index % 1_000)}".utf8))
            switch self {
            case .off: break
            case .concurrency: spec.concurrency = ConcurrencyLimit(key: "tenant-{payload.k}", limit: 10_000)
            case .rate: spec.rate = RateLimit(10_000, per: .seconds(60), key: "api-{payload.k}")
            case .unique: spec.uniqueness = Uniqueness(key: "u-\(index)", mode: .untilFinished)
            case .fair: spec.fairKey = "tenant-{payload.k}"
            }
            return spec
        }
    }

    static func run(_ arguments: [String]) async throws {
        func option(_ name: String, _ fallback: Int) -> Int {
            guard let at = arguments.firstIndex(of: name), at + 1 < arguments.count else { return fallback }
            return Int(arguments[at + 1]) ?? fallback
        }
        let rounds = option("--rounds", 5), tasks = option("--tasks", 20_000)
        let commands = arguments.contains("--commands")
        let server = try await RedisServerFixture.start()
        defer { Task { await server.stop() } }
        let client = server.makeClient()
        // `--only off,concurrency`: just those variants (for profiling one path)
        let only = arguments.firstIndex(of: "--only").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1].split(separator: ",").map(String.init) : nil }
        let variants = Variant.allCases.filter { only?.contains($0.shortName) ?? true }
        var figures: [Variant: [Double]] = [:], submitFigures: [Variant: [Double]] = [:]
        print("Redis CPU per task (INFO cpu, user + sys), batched no-op life (batches of 100, \(grouped(Double(tasks))) tasks), \(rounds) rounds")
        for round in 0..<rounds {
            for offset in 0..<variants.count {
                let variant = variants[(offset + round) % variants.count]
                let (cpu, submitCPU, calls) = try await measure(client, tasks: tasks) { probe in
                    var submitted = 0
                    while submitted < tasks {
                        let first = submitted, n = min(100, tasks - submitted)
                        try await probe.submit((0..<n).map { variant.spec(first + $0) })
                        submitted += n
                    }
                } drain: { probe in
                    try await EngineBenchmark.drain(probe, batch: 100)
                }
                figures[variant, default: []].append(cpu)
                submitFigures[variant, default: []].append(submitCPU)
                if commands && round == 0 {
                    print("  \(variant.rawValue): " + calls.map { "\($0.0) \(String(format: "%.2f", $0.1))" }.joined(separator: ", ") + " calls/task")
                }
            }
        }
        print("")
        print("variant".padding(38) + "median".leftPadding(10) + "× off".leftPadding(8) + "submit".leftPadding(10) + "claim+complete".leftPadding(16) + "   rounds (µs)")
        let off = median(figures[.off] ?? [0])
        for variant in variants {
            let values = figures[variant] ?? []
            // the split: the submit calls' share, and what the drain (claims and completions) took
            let submits = median(submitFigures[variant] ?? [0])
            let drains = median(zip(values, submitFigures[variant] ?? []).map { $0 - $1 })
            print(variant.rawValue.padding(38) + String(format: "%.1f µs", median(values)).leftPadding(10)
                + String(format: "%.2f", median(values) / off).leftPadding(8)
                + String(format: "%.1f", submits).leftPadding(10) + String(format: "%.1f", drains).leftPadding(16)
                + "   " + values.map { String(format: "%.1f", $0) }.joined(separator: " "))
        }
        print("")
        print("reproduce: swift build --package-path Benchmarks --scratch-path .build-bench && .build-bench/debug/JobqBenchmarks limits")
        await client.close()
        await server.stop()
    }

    /// Runs `submit` then `drain` in a fresh namespace: Redis CPU per task (µs) of both, of the
    /// submit part alone, and the commands both made per task (the most frequent, scripts excluded).
    private static func measure(_ client: RedisClient, tasks: Int, _ submit: (EngineProbe) async throws -> Void,
                                drain: (EngineProbe) async throws -> Void) async throws -> (Double, Double, [(String, Double)]) {
        let probe = try EngineProbe(redis: client, namespace: "bench-" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        _ = try await client.send("CONFIG", "RESETSTAT")
        let before = try await EngineBenchmark.cpuSeconds(client)
        try await submit(probe)
        let submitted = try await EngineBenchmark.cpuSeconds(client)
        try await drain(probe)
        let after = try await EngineBenchmark.cpuSeconds(client)
        var calls: [(String, Double)] = []
        for (name, line) in try await EngineBenchmark.info(client, "commandstats") where name.hasPrefix("cmdstat_") {
            let command = String(name.dropFirst(8))
            guard !["fcall", "function", "evalsha", "info", "config", "eval", "script"].contains(command),
                  let part = line.split(separator: ",").first(where: { $0.hasPrefix("calls=") }),
                  let count = Double(part.dropFirst(6)) else { continue }
            calls.append((command, count / Double(tasks)))
        }
        calls.sort { $0.1 > $1.1 }
        return ((after - before) * 1e6 / Double(tasks), (submitted - before) * 1e6 / Double(tasks), Array(calls.prefix(12)))
    }
}
