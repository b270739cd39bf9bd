import Foundation
import JobqCore
import JobqRedis
import JobqTestSupport
import JobqBenchmarkSupport

/// `JobqBenchmarks redis [-n N] [--runs R]`: the client's throughput next to redis-benchmark's,
/// on a private redis-server over a Unix socket. Each figure is the median of R runs.
enum RedisClientBenchmark {
    struct Row {
        let name: String
        let ours: Double
        let reference: Double?
        let referenceCommand: String
        let target: Double?
    }

    static func run(_ arguments: [String]) async throws {
        var operations = 100_000
        var runs = 3
        var idleSpin: Duration?
        var replySpin: Duration?
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "-n": operations = iterator.next().flatMap(Int.init) ?? operations
            case "--runs": runs = iterator.next().flatMap(Int.init) ?? runs
            case "--idle-spin-us": idleSpin = iterator.next().flatMap(Int.init).map { .microseconds($0) }
            case "--reply-spin-us": replySpin = iterator.next().flatMap(Int.init).map { .microseconds($0) }
            default:
                throw BenchmarkError(
                    "unknown option \(argument); usage: JobqBenchmarks redis [-n N] [--runs R] [--idle-spin-us U] [--reply-spin-us U]")
            }
        }
        operations = max(1_000, operations / 100 * 100)

        let server = try await RedisServerFixture.start()
        do {
            try await measure(server: server, operations: operations, runs: runs) { configuration in
                if let idleSpin { configuration.idleSpin = idleSpin }
                if let replySpin { configuration.replySpin = replySpin }
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    private static func measure(
        server: RedisServerFixture, operations n: Int, runs: Int, configure: (inout RedisConfiguration) -> Void
    ) async throws {
        let client = server.makeClient(configure)
        func micros(_ d: Duration) -> String { "\(d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000) µs" }
        let spins = "lane spin: idle \(micros(client.configuration.idleSpin)), reply \(micros(client.configuration.replySpin))"
        try await client.connect()
        let socket = server.socketPath
        let redisBenchmark = findExecutable("redis-benchmark")
        if redisBenchmark == nil { print("redis-benchmark not found on PATH: reference figures are left out") }

        /// Runs ours and redis-benchmark alternately (`runs` times each, so drifts in machine
        /// speed hit both alike) and returns both medians.
        func compare(
            _ arguments: [String], test: String?, ours body: () async throws -> Void
        ) async throws -> (ours: Double, reference: Double?) {
            var oursFigures: [Double] = []
            var referenceFigures: [Double] = []
            for _ in 0..<runs {
                if let redisBenchmark {
                    let csv = try runCommand(redisBenchmark, ["-s", socket, "-n", String(n), "--csv"] + arguments)
                    referenceFigures.append(try parseCSV(csv, test: test))
                }
                oursFigures.append(try await opsPerSecond(operations: n, body))
            }
            return (median(oursFigures), referenceFigures.isEmpty ? nil : median(referenceFigures))
        }

        // Warm up the connection, the lane thread and the allocator.
        for _ in 0..<2_000 { _ = try await client.send("PING") }

        var rows: [Row] = []

        let ping = RedisCommand("PING")
        let unpipelined = try await compare(["-c", "1", "-t", "ping"], test: "PING_MBULK") {
            for _ in 0..<n { _ = try await client.send(ping) }
        }
        rows.append(Row(
            name: "PING, unpipelined (1 caller awaiting each)", ours: unpipelined.ours, reference: unpipelined.reference,
            referenceCommand: "-c 1 -t ping", target: 0.6))

        let batch = [RedisCommand](repeating: RedisCommand("LPUSH", ["bench:list", "xxx"]), count: 100)
        let pipelined = try await compare(["-c", "1", "-P", "16", "-t", "lpush"], test: "LPUSH") {
            for _ in 0..<(n / 100) { _ = try await client.pipeline(batch) }
            _ = try await client.send("DEL", "bench:list")
        }
        rows.append(Row(
            name: "LPUSH, pipelined in batches of 100", ours: pipelined.ours, reference: pipelined.reference,
            referenceCommand: "-c 1 -P 16 -t lpush", target: 0.8))
        let pipelined100 = try await compare(["-c", "1", "-P", "100", "-t", "lpush"], test: "LPUSH") {
            for _ in 0..<(n / 100) { _ = try await client.pipeline(batch) }
            _ = try await client.send("DEL", "bench:list")
        }
        rows.append(Row(
            name: "LPUSH, pipelined in batches of 100", ours: pipelined100.ours, reference: pipelined100.reference,
            referenceCommand: "-c 1 -P 100 -t lpush (same batch size)", target: nil))

        let script = RedisScript(name: "incr", source: "return redis.call('INCR', KEYS[1])")
        try await client.loadScripts([script])
        let evalsha = try await compare(["-c", "1", "EVALSHA", script.sha1, "1", "bench:counter"], test: nil) {
            for _ in 0..<n { _ = try await client.evalScript(script, keys: ["bench:counter"], args: []) }
        }
        rows.append(Row(
            name: "EVALSHA (INCR script), unpipelined", ours: evalsha.ours, reference: evalsha.reference,
            referenceCommand: "-c 1 EVALSHA <sha> 1 bench:counter", target: 0.6))

        // One jobq submit (one task, unbatched: one round trip, the whole submit script) against
        // the same redis-benchmark EVALSHA of a one-command script: what the engine's script and
        // the lane hop cost on top of the bare round trip.
        let coordinator = try EngineProbe(redis: client, namespace: "bench-submit-" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        let submits = n / 4
        let spec = TaskSpec(handler: "noop", payload: Array("{}".utf8))
        _ = try await coordinator.submit([spec])
        let submit = try await compare(["-c", "1", "EVALSHA", script.sha1, "1", "bench:counter"], test: nil) {
            for _ in 0..<submits { _ = try await coordinator.submit([spec]) }
        }
        rows.append(Row(
            name: "one jobq submit call vs EVALSHA (INCR script)", ours: submit.ours * Double(submits) / Double(n),
            reference: submit.reference, referenceCommand: "-c 1 EVALSHA <sha> 1 bench:counter", target: 0.8))
        // Like for like: the same submit FCALL, sent by redis-benchmark (random task ids), so the
        // ratio is the client's own cost (building and checking the call, the lane hop, decoding)
        // and not the script's, which the row above counts against a one-command script.
        let replayed = coordinator.submitCommandLine(spec, id: "b__rand_int__")
        // the replay must really submit (an error reply would be measured as a fast call)
        let probe = try await client.send(RedisCommand(replayed[0], replayed.dropFirst().map { RedisArgument($0.replacingOccurrences(of: "__rand_int__", with: "probe")) }))
        guard probe.array?.first?.int == 1 else { throw BenchmarkError("the replayed submit FCALL did not submit: \(probe)") }
        let sameCall = try await compare(["-c", "1", "-r", "1000000000"] + replayed, test: nil) {
            for _ in 0..<submits { _ = try await coordinator.submit([spec]) }
        }
        rows.append(Row(
            name: "one jobq submit call vs the same FCALL", ours: sameCall.ours * Double(submits) / Double(n),
            reference: sameCall.reference, referenceCommand: "-c 1 -r 1e9 FCALL <submit> 1 <prefix> <its arguments>", target: 0.8))

        let callers = 50
        let concurrent = try await compare(["-c", String(callers), "-t", "ping"], test: "PING_MBULK") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<callers {
                    group.addTask { for _ in 0..<(n / callers) { _ = try await client.send(ping) } }
                }
                try await group.waitForAll()
            }
        }
        rows.append(Row(
            name: "PING, \(callers) concurrent callers, 1 connection", ours: concurrent.ours, reference: concurrent.reference,
            referenceCommand: "-c \(callers) -t ping (\(callers) connections)", target: nil))
        await client.close()

        let redisVersion = (try? runCommand(findExecutable("redis-server") ?? "/usr/bin/redis-server", ["--version"])) ?? "?"
        print("""
            jobq RedisClient vs redis-benchmark — unix socket, \(n) ops per run, median of \(runs) runs, \
            \(ProcessInfo.processInfo.activeProcessorCount) CPUs
            \(redisVersion.split(separator: " ").prefix(3).joined(separator: " ")); \(spins)
            reference: redis-benchmark -s <socket> -n \(n) --csv <options below>

            """)
        let header = "benchmark".padding(46) + "jobq ops/s".leftPadding(12) + "redis-bench".leftPadding(13)
            + "ratio".leftPadding(8) + "target".leftPadding(8) + "   redis-benchmark options"
        print(header)
        print(String(repeating: "-", count: header.count + 10))
        var missed = false
        for row in rows {
            var line = row.name.padding(46) + grouped(row.ours).leftPadding(12)
            if let reference = row.reference {
                let ratio = row.ours / reference
                line += grouped(reference).leftPadding(13) + "\(Int((ratio * 100).rounded()))%".leftPadding(8)
                if let target = row.target {
                    let met = ratio >= target
                    missed = missed || !met
                    line += "≥\(Int(target * 100))% \(met ? "✓" : "✗")".leftPadding(8)
                } else {
                    line += "—".leftPadding(8)
                }
            } else {
                line += "n/a".leftPadding(13) + "".leftPadding(16)
            }
            print(line + "   " + row.referenceCommand)
        }
        if missed { print("\nat least one target was missed") }
    }

    /// The rps field of `test`'s line (or of the first data line) in redis-benchmark's CSV.
    private static func parseCSV(_ csv: String, test: String?) throws -> Double {
        for line in csv.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            // "test","rps",latencies… (8 columns in Redis 7); a test name holding commas (a
            // command line with JSON arguments) splits into more, so count from the end
            let rpsField = fields.count >= 8 ? fields[fields.count - 7] : fields.count >= 2 ? fields[1] : ""
            guard fields[0] != "test", let rps = Double(rpsField) else { continue }
            if test == nil || fields[0] == test { return rps }
        }
        throw BenchmarkError("no \(test ?? "result") in redis-benchmark output:\n\(csv)")
    }
}
