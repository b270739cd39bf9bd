import Foundation
import InMemoryTracing
import Jobq
import JobqBenchmarkSupport
import JobqRedis
import JobqTestSupport
import JobqWorker
import Logging
import Synchronization
import Tracing

/// What tracing costs: the same submit + run workload (no-op tasks, one per submit call, from
/// several concurrent producers, run by an in-process worker) without a tracer (the default
/// no-op) and with a recording tracer (swift-distributed-tracing's InMemoryTracer: two spans per
/// task, the context stored with each task and extracted by the worker), alternated, the median
/// of the rounds printed side by side. "process cpu/task" is this process's CPU (producers and
/// worker: where spans are made), "redis cpu/task" the server's (the stored `trace` field).
enum TracingBenchmark {
    static func run(_ arguments: [String]) async throws {
        let tasks = Int(arguments.first ?? "") ?? 4_000
        let rounds = 3
        let server = try await RedisServerFixture.start()
        let redis = server.makeClient()
        print("submit + run of \(grouped(Double(tasks))) no-op tasks (8 producers, one task per submit; one worker, 16 slots), median of \(rounds) alternated rounds (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
        print("")
        var results: [String: [Measurement]] = [:]
        let modes = ["no tracer (no-op)", "in-memory tracer"]
        for _ in 0..<rounds {
            for mode in modes {
                let tracer = mode == modes[0] ? nil : InMemoryTracer()
                let measurement = try await measure(server: server, redis: redis, tasks: tasks, tracer: tracer)
                results[mode, default: []].append(measurement)
            }
        }
        print("mode".padding(22) + "tasks/s".leftPadding(10) + "process cpu/task".leftPadding(18) + "redis cpu/task".leftPadding(16) + "spans".leftPadding(8) + "stored/task".leftPadding(13))
        for mode in modes {
            let all = results[mode] ?? []
            print(mode.padding(22)
                + grouped(median(all.map(\.tasksPerSecond))).leftPadding(10)
                + String(format: "%.1f µs", median(all.map(\.processMicroseconds))).leftPadding(18)
                + String(format: "%.1f µs", median(all.map(\.redisMicroseconds))).leftPadding(16)
                + grouped(Double(all.last?.spans ?? 0)).leftPadding(8)
                + "\(all.last?.storedBytes ?? 0) B".leftPadding(13))
        }
        print("")
        print("reproduce: swift run -c release --package-path Benchmarks JobqBenchmarks tracing [tasks]")
        await redis.close()
        await server.stop()
    }

    struct Measurement {
        var tasksPerSecond: Double
        var processMicroseconds: Double
        var redisMicroseconds: Double
        var spans: Int
        var storedBytes: Int
    }

    private static func measure(server: RedisServerFixture, redis: RedisClient, tasks: Int, tracer: InMemoryTracer?) async throws -> Measurement {
        let namespace = "bench-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let client = try JobqClient(configuration: server.configuration, namespace: namespace)
        let done = Atomic<Int>(0)
        var registry = HandlerRegistry()
        registry.register("bench.noop", raw: { _, _ in
            done.add(1, ordering: .relaxed)
            return Array("null".utf8)
        })
        var configuration = WorkerConfiguration(queues: ["default"], concurrency: 16)
        configuration.idleWait = .milliseconds(100)
        var logger = Logger(label: "bench.worker")
        logger.logLevel = .warning
        let worker = try Worker(client: client, registry: registry, configuration: configuration, logger: logger)

        let body = { () async throws -> (Double, Double, Double) in
            let running = Task { try await worker.run() }
            _ = try await redis.send("CONFIG", "RESETSTAT")
            let redisBefore = try await EngineBenchmark.cpuSeconds(redis)
            let processBefore = processCPUSeconds()
            let clock = ContinuousClock()
            let started = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for producer in 0..<8 {
                    group.addTask {
                        for index in stride(from: producer, to: tasks, by: 8) {
                            try await client.submit(TaskSpec(id: "t\(index)", handler: "bench.noop"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            while done.load(ordering: .relaxed) < tasks { try await Task.sleep(for: .milliseconds(2)) }
            let elapsed = clock.now - started
            let processCPU = processCPUSeconds() - processBefore
            let redisCPU = try await EngineBenchmark.cpuSeconds(redis) - redisBefore
            worker.shutdown()
            try await running.value
            let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return (Double(tasks) / wall, processCPU * 1e6 / Double(tasks), redisCPU * 1e6 / Double(tasks))
        }
        let rate, process, redisCPU: Double
        if let tracer {
            (rate, process, redisCPU) = try await withTracer(tracer) { try await body() }
        } else {
            (rate, process, redisCPU) = try await body()
        }
        let stored = try await redis.send("HGET", RedisArgument(try EngineProbe(redis: redis, namespace: namespace).keys.task("t0")), "trace").decodeOptionalString()
        await client.close()
        return Measurement(
            tasksPerSecond: rate, processMicroseconds: process, redisMicroseconds: redisCPU,
            spans: tracer?.finishedSpans.count ?? 0, storedBytes: stored?.utf8.count ?? 0
        )
    }

    /// This process's CPU time (user + system), seconds.
    private static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
