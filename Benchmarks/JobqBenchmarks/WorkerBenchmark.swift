import Foundation
import JobqTestSupport

/// End-to-end figures with real `jobq-worker` processes: no-op throughput with 1 and 2 worker
/// processes (submitting while they drain, and draining a queue filled beforehand), 1,000 chains
/// of 10, one task after 2,000 prerequisites, and submit→DONE latency on an idle system.
///
/// The work is done by `jobq-worker bench` (a hidden subcommand that starts the worker processes,
/// submits through the library and measures); this runs it against a private redis-server.
/// `Benchmarks/e2e.sh` runs the same and adds redis-benchmark figures for scale.
///
///     swift build -c release --product jobq-worker
///     swift run -c release JobqBenchmarks worker [--count N] [--samples N]
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
        let binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let worker = binDirectory.appendingPathComponent("jobq-worker").path
        guard FileManager.default.isExecutableFile(atPath: worker) else {
            throw BenchmarkError("\(worker) not found: build it first with `swift build -c release --product jobq-worker`")
        }
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
                print(try runCommand(worker, ["bench", "--url", server.url] + run), terminator: "")
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
        print("")
        print("reproduce: swift build -c release --product jobq-worker && swift run -c release JobqBenchmarks worker")
    }
}
