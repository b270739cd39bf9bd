import Foundation
import JobqTestSupport

/// End-to-end figures with real `jobq-worker` processes: no-op throughput with 1 and 2 worker
/// processes (submitting while they drain, and draining a queue filled beforehand), 1,000 chains
/// of 10, one task after 2,000 prerequisites, and submit→DONE latency on an idle system.
///
/// The work is done by `JobqBenchmarks producer` (``BenchmarkProducer``: starts the worker
/// processes, submits through the library and measures), in a child process per workload; this
/// runs it against a private redis-server. `Benchmarks/e2e.sh` runs the same and adds
/// redis-benchmark figures for scale.
///
///     swift build -c release --package-path Benchmarks --product jobq-worker
///     swift run -c release --package-path Benchmarks JobqBenchmarks worker [--count N] [--samples N]
enum WorkerBenchmark {
    static func run(_ arguments: [String]) async throws {
        var count = 100_000
        var samples = 2_000
        var index = 0
        while index < arguments.count {
            let value = index + 1 < arguments.count ? Int(arguments[index + 1]) : nil
            switch (arguments[index], value) {
            case ("--count", let value?): count = value
            case ("--samples", let value?): samples = value
            default: throw BenchmarkError("usage: JobqBenchmarks worker [--count N] [--samples N]")
            }
            index += 2
        }
        let benchmarks = URL(fileURLWithPath: Bundle.main.executablePath ?? CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let worker = try BenchmarkProducer.siblingWorker()
        let server = try await RedisServerFixture.start()
        print("jobq-worker end to end, one private redis-server on a unix socket (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
        let runs: [[String]] = [
            ["--workload", "noop", "--count", "\(count)", "--workers", "1"],
            ["--workload", "noop", "--count", "\(count)", "--workers", "2"],
            ["--workload", "drain", "--count", "\(count)", "--workers", "1"],
            ["--workload", "drain", "--count", "\(count)", "--workers", "2"],
            ["--workload", "chains", "--count", "10000", "--chain-length", "10", "--workers", "1"],
            ["--workload", "chains", "--count", "10000", "--chain-length", "10", "--workers", "2"],
            ["--workload", "fanin", "--count", "2000", "--workers", "1"],
            ["--workload", "latency", "--count", "\(samples)", "--workers", "1"],
        ]
        do {
            for run in runs {
                print(try runCommand(benchmarks, ["producer", "--url", server.url, "--worker-executable", worker] + run), terminator: "")
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
        print("")
        print("reproduce: swift build -c release --package-path Benchmarks --product jobq-worker && swift run -c release --package-path Benchmarks JobqBenchmarks worker")
    }
}
