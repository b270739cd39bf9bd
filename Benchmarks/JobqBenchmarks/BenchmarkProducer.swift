import ArgumentParser
import Foundation
import JobqSpawn
import Jobq
import JobqCore
import JobqRedis

/// `JobqBenchmarks producer …`: one end-to-end workload with real worker processes.
///
/// Starts `--workers` `jobq-worker` processes (test handlers, drain mode off), submits a
/// workload, measures until it is done, stops the workers with SIGTERM. `JobqBenchmarks worker`
/// and `Benchmarks/e2e.sh` run it once per workload.
struct BenchmarkProducer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "JobqBenchmarks producer",
        abstract: "One end-to-end workload with real jobq-worker processes (used by `JobqBenchmarks worker` and Benchmarks/e2e.sh)."
    )

    enum Workload: String, ExpressibleByArgument, CaseIterable {
        /// Submit in batches while the workers drain.
        case noop
        /// Submit everything to a paused queue, then resume: the workers' drain rate alone.
        case drain
        case chains, fanin, latency
    }

    @Option(help: "Redis URL (the workers get it too).") var url: String
    @Option var workload: Workload
    @Option var count: Int = 100_000
    @Option var batch: Int = 1000
    @Option var workers: Int = 1
    @Option(name: .customLong("worker-concurrency")) var concurrency: Int = 256
    @Option(name: .customLong("chain-length")) var chainLength: Int = 10
    @Option(name: .customLong("worker-log")) var workerLog: String = "/dev/null"
    @Option(name: .customLong("worker-executable"), help: "The jobq-worker to start (default: the one next to this executable).")
    var workerExecutable: String?

    func run() async throws {
        let namespace = "bench-\(workload.rawValue)-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let client = try JobqClient(url: url, namespace: namespace)
        var children: [pid_t] = []
        let executable = try workerExecutable ?? Self.siblingWorker()
        for index in 0..<workers {
            children.append(try Self.spawn(executable, [
                "--redis", url, "--namespace", namespace, "--enable-test-handlers", "--concurrency", String(concurrency),
                "--worker-id", "bench-\(index)", "--log-level", "warning",
            ], log: workerLog))
        }
        defer {
            for pid in children { kill(pid, SIGTERM) }
            for pid in children {
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
        }
        // Let the workers connect and block on their queues.
        try await Task.sleep(for: .milliseconds(300))
        let label = "\(workload.rawValue) workers=\(workers) concurrency=\(concurrency)"
        switch workload {
        case .noop:
            let start = ContinuousClock.now
            var submitted = 0
            while submitted < count {
                let n = min(batch, count - submitted)
                let specs = (0..<n).map { _ in TaskSpec(handler: "jobq.noop", maxAttempts: 1, resultTTL: .seconds(600)) }
                _ = try await client.submit(specs)
                submitted += n
            }
            let submitTime = ContinuousClock.now - start
            try await waitForDone(client, count)
            let total = ContinuousClock.now - start
            print("\(label) tasks=\(count) submit_batch=\(batch) submit_s=\(Self.seconds(submitTime)) total_s=\(Self.seconds(total)) tasks_per_s=\(Int(Double(count) / Self.secondsValue(total)))")
        case .drain:
            try await client.pause(queue: TaskSpec.defaultQueue)
            var submitted = 0
            while submitted < count {
                let n = min(batch, count - submitted)
                _ = try await client.submit((0..<n).map { _ in TaskSpec(handler: "jobq.noop", maxAttempts: 1, resultTTL: .seconds(600)) })
                submitted += n
            }
            let start = ContinuousClock.now
            try await client.resume(queue: TaskSpec.defaultQueue)
            try await waitForDone(client, count)
            let total = ContinuousClock.now - start
            print("\(label) tasks=\(count) drain_s=\(Self.seconds(total)) tasks_per_s=\(Int(Double(count) / Self.secondsValue(total)))")
        case .chains:
            let chains = max(1, count / chainLength)
            var specs: [TaskSpec] = []
            for chain in 0..<chains {
                for step in 0..<chainLength {
                    specs.append(TaskSpec(
                        id: "c\(chain)-\(step)", handler: "jobq.noop",
                        prerequisites: step == 0 ? [] : [Prerequisite("c\(chain)-\(step - 1)")], maxAttempts: 1, resultTTL: .seconds(600)
                    ))
                }
            }
            let start = ContinuousClock.now
            for slice in stride(from: 0, to: specs.count, by: 10_000) {
                _ = try await client.submit(Array(specs[slice..<min(slice + 10_000, specs.count)]))
            }
            try await waitForDone(client, specs.count)
            let total = ContinuousClock.now - start
            print("\(label) chains=\(chains) length=\(chainLength) tasks=\(specs.count) total_s=\(Self.seconds(total)) tasks_per_s=\(Int(Double(specs.count) / Self.secondsValue(total)))")
        case .fanin:
            var specs = (0..<count).map { TaskSpec(id: "p\($0)", handler: "jobq.echo", payload: Array("{\"n\":\($0)}".utf8), maxAttempts: 1, resultTTL: .seconds(600)) }
            specs.append(TaskSpec(id: "sink", handler: "jobq.noop", prerequisites: (0..<count).map { Prerequisite("p\($0)") }, maxAttempts: 1, resultTTL: .seconds(600)))
            let start = ContinuousClock.now
            _ = try await client.submit(specs)
            let sink = try await client.wait(for: "sink", timeout: .seconds(120))
            let total = ContinuousClock.now - start
            let finished = try await client.tasks((0..<count).map { "p\($0)" }).compactMap { $0?.finished }.max() ?? 0
            let release = (sink.finished ?? 0) - finished
            print("\(label) prerequisites=\(count) state=\(sink.state?.rawValue ?? "?") total_s=\(Self.seconds(total)) last_prerequisite_to_sink_done_ms=\(release)")
        case .latency:
            var samples: [Duration] = []
            for _ in 0..<count {
                let start = ContinuousClock.now
                let task = try await client.submit([TaskSpec(handler: "jobq.noop", maxAttempts: 1, resultTTL: .seconds(600))])
                _ = try await client.wait(for: task.tasks[0].id, timeout: .seconds(30))
                samples.append(ContinuousClock.now - start)
                try await Task.sleep(for: .milliseconds(2))  // an idle system between samples
            }
            samples.sort()
            func percentile(_ p: Double) -> String {
                let value = samples[min(samples.count - 1, Int(Double(samples.count) * p))]
                return String(format: "%.3f", Self.secondsValue(value) * 1000)
            }
            print("\(label) samples=\(count) submit_to_done_ms p50=\(percentile(0.5)) p90=\(percentile(0.9)) p99=\(percentile(0.99)) max=\(percentile(1.0))")
        }
        let stats = try await client.stats()
        print("  stats: done=\(stats["done"] ?? 0) failed=\(stats["failed"] ?? 0) retried=\(stats["retried"] ?? 0) claimed=\(stats["claimed"] ?? 0)")
    }

    private func waitForDone(_ client: JobqClient, _ expected: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(600)
        while ContinuousClock.now < deadline {
            let stats = try await client.stats()
            if (stats["done"] ?? 0) + (stats["failed"] ?? 0) + (stats["cancelled"] ?? 0) >= expected { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw ValidationError("the workload did not finish within 10 minutes")
    }

    static func secondsValue(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func seconds(_ duration: Duration) -> String { String(format: "%.3f", secondsValue(duration)) }

    /// `jobq-worker` in this executable's directory: `swift build --package-path Benchmarks
    /// --product jobq-worker` puts it there.
    static func siblingWorker() throws -> String {
        let directory = URL(fileURLWithPath: Bundle.main.executablePath ?? CommandLine.arguments[0])
            .resolvingSymlinksInPath().deletingLastPathComponent()
        let worker = directory.appendingPathComponent("jobq-worker").path
        guard FileManager.default.isExecutableFile(atPath: worker) else {
            throw ValidationError("\(worker) not found: build it with `swift build -c release --package-path Benchmarks --product jobq-worker`, or pass --worker-executable")
        }
        return worker
    }

    /// Starts a worker process, its output appended to `log`.
    static func spawn(_ executable: String, _ arguments: [String], log: String) throws -> pid_t {
        do {
            return try spawnProcess(executable, arguments, SpawnOptions(stdout: .file(log)))
        } catch {
            throw ValidationError(error.description)
        }
    }
}
