import Foundation
import Jobq
import JobqRedis
import JobqTestSupport
import JobqWorker
import Logging
import Synchronization

/// Maps (issue 11's benchmark): a map over N elements end to end — a task returns the list, the
/// built-in `jobq.map` expands it into a child run of N no-op tasks, an in-process worker runs
/// them — beside a static fan-out of the same size (one run: a root and N no-op tasks after it),
/// in the same process against the same private redis-server, alternated. Printed per variant:
/// wall time from submit to the run's end, Redis CPU (INFO cpu, user + sys) per child task, the
/// script calls and their mean time (INFO commandstats), and the script calls over 10 ms (SLOWLOG).
///
/// `JobqBenchmarks map [--elements N (20,000)] [--concurrency C (64)] [--rounds R (1)]`. Over 50,000
/// elements the client raises its tasks-per-submission limit to N + 2 (the child run, and the
/// static run, are each one submission until submission is chunked).
enum MapBenchmark {
    static func run(_ arguments: [String]) async throws {
        var elements = 20_000
        var concurrency = 64
        var rounds = 1
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            guard let text = iterator.next(), let value = Int(text), value > 0 else {
                throw BenchmarkError("usage: JobqBenchmarks map [--elements N (20,000)] [--concurrency C (64)] [--rounds R (1)]")
            }
            switch argument {
            case "--elements": elements = value
            case "--concurrency": concurrency = value
            case "--rounds": rounds = value
            default: throw BenchmarkError("unknown argument \(argument)")
            }
        }
        let server = try await RedisServerFixture.start()
        let redis = server.makeClient { $0.commandTimeout = .seconds(300) }
        print("map over \(grouped(Double(elements))) elements vs a static fan-out of the same size; one in-process worker of \(concurrency) slots, no-op handlers; private redis-server (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
        print("")
        print("variant".padding(22) + "wall s".leftPadding(9) + "children/s".leftPadding(12) + "redis µs/child".leftPadding(16)
            + "script calls".leftPadding(14) + "µs/call".leftPadding(10) + "calls >10ms".leftPadding(13) + "slowest ms".leftPadding(12))
        do {
            for _ in 0..<rounds {
                for variant in ["static fan-out", "map"] {
                    let m = try await measure(variant: variant, server: server, redis: redis, elements: elements, concurrency: concurrency)
                    print(variant.padding(22) + String(format: "%.2f", m.wall).leftPadding(9) + grouped(Double(elements) / m.wall).leftPadding(12)
                        + String(format: "%.1f", m.redisCPU * 1e6 / Double(elements)).leftPadding(16) + grouped(m.calls).leftPadding(14)
                        + String(format: "%.1f", m.microsecondsPerCall).leftPadding(10) + "\(m.slowCalls)".leftPadding(13)
                        + String(format: "%.1f", m.slowestMilliseconds).leftPadding(12))
                }
            }
        } catch {
            await redis.close()
            await server.stop()
            throw error
        }
        print("")
        print("redis µs/child: the server's CPU for the whole variant (submit, claims, completions, the expansion, the run's end) / N")
        print("reproduce: swift run -c release --package-path Benchmarks JobqBenchmarks map " + arguments.joined(separator: " "))
        await redis.close()
        await server.stop()
    }

    struct Measurement {
        var wall: Double
        var redisCPU: Double
        var calls: Double
        var microsecondsPerCall: Double
        var slowCalls: Int
        var slowestMilliseconds: Double
    }

    private static func measure(variant: String, server: RedisServerFixture, redis: RedisClient, elements: Int, concurrency: Int) async throws -> Measurement {
        let namespace = "bench-map-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        var limits = Limits()
        limits.maxTasksPerSubmission = max(limits.maxTasksPerSubmission, elements + 2)
        var configuration = server.configuration
        configuration.commandTimeout = .seconds(300)
        let client = try JobqClient(configuration: configuration, namespace: namespace, limits: limits)
        var registry = HandlerRegistry()
        registry.register("bench.noop", raw: { _, _ in Array("null".utf8) })
        registry.register("bench.list", raw: { payload, _ in payload })
        var workerConfiguration = WorkerConfiguration(queues: ["default"], concurrency: concurrency)
        workerConfiguration.idleWait = .milliseconds(100)
        var logger = Logger(label: "bench.worker")
        logger.logLevel = .warning
        let workerClient = try JobqClient(configuration: configuration, namespace: namespace, limits: limits)
        let worker = try Worker(client: workerClient, registry: registry, configuration: workerConfiguration, logger: logger)

        var flow = Workflow(variant == "map" ? "mapped" : "fanout")
        if variant == "map" {
            let list = try flow.add("list", handler: "bench.list", payload: Array(0..<elements))
            try flow.add("m", map: .resultOf(list), task: TaskSpec(handler: "bench.noop", payload: MapRequest.item), width: min(elements, MapRequest.maxWidth))
        } else {
            let root = try flow.add("root", handler: "bench.noop")
            for index in 0..<elements { try flow.add("t\(index)", handler: "bench.noop", requires: [root]) }
        }

        _ = try await redis.send("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        _ = try await redis.send("CONFIG", "SET", "slowlog-max-len", "100000")
        _ = try await redis.send("SLOWLOG", "RESET")
        _ = try await redis.send("CONFIG", "RESETSTAT")
        let running = Task { try await worker.run() }
        let cpuBefore = try await EngineBenchmark.cpuSeconds(redis)
        let clock = ContinuousClock()
        let started = clock.now
        let run = try await client.submit(flow)
        let outcome = try await run.wait(timeout: .seconds(3600))
        let elapsed = clock.now - started
        let cpu = try await EngineBenchmark.cpuSeconds(redis) - cpuBefore
        worker.shutdown()
        try await running.value
        guard outcome.state == .done else { throw BenchmarkError("\(variant): the run ended \(outcome.state.rawValue)") }
        if variant == "map" {
            let child = try await client.run("\(run.id).m")
            guard child.counts[.done] == elements else { throw BenchmarkError("map: the child run has \(child.counts)") }
        }
        let stats = try await EngineBenchmark.info(redis, "commandstats")["cmdstat_fcall"] ?? ""
        func field(_ name: String) -> Double {
            for part in stats.split(separator: ",") where part.hasPrefix(name + "=") { return Double(part.dropFirst(name.count + 1)) ?? 0 }
            return 0
        }
        let slow = try await redis.send("SLOWLOG", "GET", "100000").array ?? []
        let slowest = slow.compactMap { $0.array?.dropFirst(2).first?.int }.max() ?? 0
        await client.close()
        await workerClient.close()
        return Measurement(
            wall: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, redisCPU: cpu,
            calls: field("calls"), microsecondsPerCall: field("usec_per_call"), slowCalls: slow.count, slowestMilliseconds: Double(slowest) / 1000
        )
    }
}
