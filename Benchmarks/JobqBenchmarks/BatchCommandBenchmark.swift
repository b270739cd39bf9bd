import Foundation
import Jobq
import JobqCore
import JobqSpawn
import JobqTestSupport

/// Command handlers in batches vs one process per task, side by side in one run: the same small
/// Python handler (double a number) as a plain command handler (one `python3` per task) and as a
/// batch command handler (one `python3` per batch: tasks as JSON lines on stdin, one outcome line
/// per task on stdout), each served by one real `jobq-worker` process from a `--config` file,
/// against a private redis-server. The tasks are submitted to a paused queue, then the queue is
/// resumed: the figure is the worker's drain rate alone.
///
///     swift build -c release --package-path Benchmarks --scratch-path .build-bench --product jobq-worker
///     swift run -c release --package-path Benchmarks --scratch-path .build-bench JobqBenchmarks batch [--count N]
enum BatchCommandBenchmark {
    static let single = """
        import json, sys
        p = json.load(sys.stdin)
        print(json.dumps({"double": p["n"] * 2}))
        """

    static let batch = """
        import json, sys
        for line in sys.stdin:
            t = json.loads(line)
            print(json.dumps({"id": t["id"], "ok": True, "result": {"double": t["payload"]["n"] * 2}}), flush=True)
        """

    struct Mode {
        var label: String
        var script: String
        var concurrency: Int
        var batch: String?
    }

    static func run(_ arguments: [String]) async throws {
        var count = 1000
        if arguments.count == 2, arguments[0] == "--count", let value = Int(arguments[1]) {
            count = value
        } else if !arguments.isEmpty {
            throw BenchmarkError("usage: JobqBenchmarks batch [--count N]")
        }
        guard let python = findExecutable("python3") else { throw BenchmarkError("python3 not found on PATH") }
        let worker = try BenchmarkProducer.siblingWorker()
        let directory = NSTemporaryDirectory() + "jobq-batch-bench-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try single.write(toFile: "\(directory)/single.py", atomically: true, encoding: .utf8)
        try batch.write(toFile: "\(directory)/batch.py", atomically: true, encoding: .utf8)

        let modes = [
            Mode(label: "one process per task, concurrency 8", script: "single.py", concurrency: 8),
            Mode(label: "batch max 8 wait 50ms, concurrency 8", script: "batch.py", concurrency: 8, batch: "{max: 8, wait: 50ms}"),
            Mode(label: "batch max 100 wait 50ms, concurrency 100", script: "batch.py", concurrency: 100, batch: "{max: 100, wait: 50ms}"),
        ]
        let server = try await RedisServerFixture.start()
        print("command handlers: batches vs one process per task; \(count) tasks of a Python handler, one jobq-worker, private redis-server (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
        do {
            for (index, mode) in modes.enumerated() {
                let config = "\(directory)/worker-\(index).yaml"
                try """
                    handlers:
                      double:
                        command: ["\(python)", "\(directory)/\(mode.script)"]
                    \(mode.batch.map { "    batch: \($0)" } ?? "")
                    """.write(toFile: config, atomically: true, encoding: .utf8)
                let rate = try await measure(worker: worker, config: config, concurrency: mode.concurrency, url: server.url, count: count)
                print("  \(mode.label.padding(42)) \(String(format: "%8.1f", rate)) tasks/s")
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
        print("reproduce: swift build -c release --package-path Benchmarks --scratch-path .build-bench --product jobq-worker && swift run -c release --package-path Benchmarks --scratch-path .build-bench JobqBenchmarks batch")
    }

    /// Tasks per second for one worker draining `count` tasks from a queue paused while filled.
    static func measure(worker: String, config: String, concurrency: Int, url: String, count: Int) async throws -> Double {
        let namespace = "bench-batch-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let client = try JobqClient(url: url, namespace: namespace)
        do {
            let rate = try await drain(client, worker: worker, config: config, concurrency: concurrency, url: url, namespace: namespace, count: count)
            await client.close()
            return rate
        } catch {
            await client.close()
            throw error
        }
    }

    private static func drain(_ client: JobqClient, worker: String, config: String, concurrency: Int, url: String, namespace: String, count: Int) async throws -> Double {
        _ = try await client.pause(queue: TaskSpec.defaultQueue, allowNew: true)
        for slice in stride(from: 0, to: count, by: 1000) {
            let specs = (slice..<min(slice + 1000, count)).map {
                TaskSpec(handler: "double", payload: Array("{\"n\":\($0)}".utf8), maxAttempts: 1, resultTTL: .seconds(600))
            }
            _ = try await client.submit(specs)
        }
        let pid = try BenchmarkProducer.spawn(worker, [
            "--redis", url, "--namespace", namespace, "--config", config, "--concurrency", String(concurrency), "--log-level", "warning",
        ], log: "/dev/null")
        defer {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        try await Task.sleep(for: .milliseconds(300))  // the worker connects and blocks on its queue
        let start = ContinuousClock.now
        _ = try await client.resume(queue: TaskSpec.defaultQueue)
        let deadline = start + .seconds(600)
        while ContinuousClock.now < deadline {
            let stats = try await client.stats()
            let ended = (stats["done"] ?? 0) + (stats["failed"] ?? 0)
            if ended >= count {
                guard stats["failed"] ?? 0 == 0 else { throw BenchmarkError("\(stats["failed"] ?? 0) tasks failed") }
                return Double(count) / BenchmarkProducer.secondsValue(ContinuousClock.now - start)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw BenchmarkError("the tasks did not finish within 10 minutes")
    }
}
