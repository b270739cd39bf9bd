// JobqBenchmarks: `swift run -c release --package-path Benchmarks JobqBenchmarks <benchmark> [options]`.
//
// Each benchmark lives in its own file and registers itself in `benchmarks` below.

import Foundation

let benchmarks: [(name: String, summary: String, run: ([String]) async throws -> Void)] = [
    ("redis", "the Redis client against redis-benchmark (unpipelined PING, pipelined LPUSH, EVALSHA)", RedisClientBenchmark.run),
    ("engine", "Redis CPU per task: submit + claim + complete, single and batched; fan-in and fan-out", EngineBenchmark.run),
    ("limits", "flow control's cost per task: no limits / concurrency and rate limits on 1,000 keys / unique keys, side by side", LimitsBenchmark.run),
    ("runs", "workflow runs: the window check per claim, jobq runs on 100,000 runs, a 10,000-task run drained", RunBenchmark.run),
    ("map", "a map over N elements end to end (the list, jobq.map, the child run) beside a static fan-out of the same size", MapBenchmark.run),
    ("worker", "end to end with real jobq-worker processes: throughput, chains, fan-in, latency", WorkerBenchmark.run),
    ("batch", "command handlers in batches vs one process per task (a small Python handler, real jobq-worker)", BatchCommandBenchmark.run),
    ("dashboard", "the dashboard's live parts: a 2,000-task run graph drawn, SSE fan-out to 100 tabs (Redis commands)", DashboardBenchmark.run),
    ("tracing", "submit + run with and without a tracer, side by side (what a span per submit and per run costs)", TracingBenchmark.run),
    ("producer", "one end-to-end workload against a given Redis (what `worker` and e2e.sh run; --help)", { await BenchmarkProducer.main($0) }),
]

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let benchmark = benchmarks.first(where: { $0.name == name }) else {
    print("usage: JobqBenchmarks <benchmark> [options]\n\nbenchmarks:")
    for benchmark in benchmarks {
        print("  \(benchmark.name.padding(12)) \(benchmark.summary)")
    }
    exit(arguments.isEmpty || arguments.first == "--help" ? 0 : 2)
}
do {
    try await benchmark.run(Array(arguments.dropFirst()))
} catch {
    print("\(name): \(error)")
    exit(1)
}
