import Foundation
import JobqCore
import JobqRedis
import JobqTestSupport
import JobqBenchmarkSupport

/// Redis CPU per task for the engine's scripts: submit + claim + complete of no-op tasks, one at
/// a time and batched, and fan-in / fan-out graphs of growing size (cost must grow linearly with
/// the number of edges).
///
/// Figures: the Redis server's own CPU time (`INFO cpu`: user + sys, which includes parsing and
/// networking) and the time spent inside scripts (`INFO commandstats`, `cmdstat_fcall`: the scripts are a Functions library).
enum EngineBenchmark {
    static func run(_ arguments: [String]) async throws {
        let server = try await RedisServerFixture.start()
        defer { Task { await server.stop() } }
        let client = server.makeClient()
        print("Redis CPU per task, one private redis-server on a unix socket (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
        print("")
        print("workload".padding(44) + "tasks".leftPadding(7) + "redis cpu/task".leftPadding(16) + "in scripts".leftPadding(12) + "tasks/s".leftPadding(10))
        for (name, count, batch) in [("no-op life, one task per call", 5_000, 1), ("no-op life, batches of 100", 20_000, 100), ("no-op life, batches of 500", 20_000, 500)] {
            try await measure(client, name: name, tasks: count) { coordinator in
                try await lifeCycle(coordinator, tasks: count, batch: batch)
            }
        }
        // uniqueness on vs off, side by side: every task with its own unique key (all created, so
        // the same work as the plain life plus the lock), alternated over two rounds; then one key
        // for all (every submit after the first is answered by the holder)
        for round in 0..<2 {
            try await measure(client, name: "no-op life, batches of 100 (round \(round + 1))", tasks: 20_000) { coordinator in
                try await lifeCycle(coordinator, tasks: 20_000, batch: 100)
            }
            try await measure(client, name: "  unique until_finished, own key each", tasks: 20_000) { coordinator in
                try await lifeCycle(coordinator, tasks: 20_000, batch: 100, unique: .untilFinished)
            }
            try await measure(client, name: "  unique until_started, own key each", tasks: 20_000) { coordinator in
                try await lifeCycle(coordinator, tasks: 20_000, batch: 100, unique: .untilStarted)
            }
        }
        try await measure(client, name: "deduplicated submit (one key, held)", tasks: 5_000) { coordinator in
            for _ in 0..<5_000 {
                var spec = TaskSpec(handler: "noop", payload: Array("{}".utf8))
                spec.uniqueness = Uniqueness(key: "one", mode: .untilFinished)
                _ = try await coordinator.submit([spec])
            }
        }
        // Priorities off vs on, side by side and alternated (the machine drifts): the batched life
        // with every task at the default priority, at one other priority, and spread over 10.
        let variants: [(String, [Int])] = [("batches of 100, priority 0 (off)", [0]), ("batches of 100, all at priority 5", [5]), ("batches of 100, priorities -4...5", Array(-4...5))]
        for round in 0..<3 {
            // each variant in each position once: a drift within a round does not favour one
            for offset in 0..<variants.count {
                let (name, levels) = variants[(offset + round) % variants.count]
                try await measure(client, name: name, tasks: 20_000) { coordinator in
                    try await lifeCycle(coordinator, tasks: 20_000, batch: 100, priorities: levels)
                }
            }
        }
        try await phases(client, tasks: 20_000, batch: 100)
        // Rate limits off vs on (1,000 keys, a rate none reaches: the cost of enforcing it),
        // alternated so that drift on a shared machine falls on both.
        for round in 1...2 {
            for (label, keys) in [("off", 0), ("on, 1,000 keys", 1_000)] {
                try await measure(client, name: "batches of 100, rate limits \(label) (\(round))", tasks: 20_000) { coordinator in
                    try await lifeCycle(coordinator, tasks: 20_000, batch: 100, rateKeys: keys)
                }
            }
        }
        for parents in [1_000, 2_000, 4_000] {
            try await measure(client, name: "fan-in: 1 task after \(grouped(Double(parents)))", tasks: parents + 1) { coordinator in
                try await fanIn(coordinator, parents: parents)
            }
        }
        for children in [2_500, 5_000, 10_000] {
            try await measure(client, name: "fan-out: \(grouped(Double(children))) tasks after 1", tasks: children + 1) { coordinator in
                try await fanOut(coordinator, children: children)
            }
        }
        print("")
        print("reproduce: swift run -c release --package-path Benchmarks JobqBenchmarks engine")
        await client.close()
        await server.stop()
    }

    /// Runs `body` in a fresh namespace and prints the Redis CPU it cost per task.
    private static func measure(_ client: RedisClient, name: String, tasks: Int, _ body: (EngineProbe) async throws -> Void) async throws {
        let coordinator = try EngineProbe(redis: client, namespace: "bench-" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        _ = try await client.send("CONFIG", "RESETSTAT")
        let before = try await cpuSeconds(client)
        let clock = ContinuousClock()
        let started = clock.now
        try await body(coordinator)
        let elapsed = clock.now - started
        let after = try await cpuSeconds(client)
        let scripts = try await scriptMicroseconds(client)
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let perTask = (after - before) * 1e6 / Double(tasks)
        print(name.padding(44) + grouped(Double(tasks)).leftPadding(7)
            + String(format: "%.1f µs", perTask).leftPadding(16)
            + String(format: "%.1f µs", scripts / Double(tasks)).leftPadding(12)
            + grouped(Double(tasks) / wall).leftPadding(10))
    }

    /// The batched no-op life split by script: where the CPU goes.
    private static func phases(_ client: RedisClient, tasks: Int, batch: Int) async throws {
        let coordinator = try EngineProbe(redis: client, namespace: "bench-phases-" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        var cost: [(String, Double)] = []
        func phase(_ name: String, _ body: () async throws -> Void) async throws {
            _ = try await client.send("CONFIG", "RESETSTAT")
            let before = try await cpuSeconds(client)
            try await body()
            cost.append((name, (try await cpuSeconds(client) - before) * 1e6 / Double(tasks)))
        }
        var claimed: [ClaimedTask] = []
        try await phase("submit") {
            for _ in 0..<(tasks / batch) {
                _ = try await coordinator.submit((0..<batch).map { _ in TaskSpec(handler: "noop", payload: Array("{}".utf8)) })
            }
        }
        try await phase("claim") {
            while true {
                let got = try await coordinator.claim(queues: ["default"], count: batch, lease: .seconds(60), worker: "bench")
                if got.isEmpty { break }
                claimed += got
            }
        }
        try await phase("complete") {
            var index = 0
            while index < claimed.count {
                let slice = claimed[index..<min(index + batch, claimed.count)]
                _ = try await coordinator.complete(slice.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
                index += batch
            }
        }
        print("  of which, per task: " + cost.map { "\($0.0) \(String(format: "%.1f", $0.1)) µs" }.joined(separator: ", "))
    }

    /// `priorities`: the tasks' priorities, in turn (`[0]`: the default, no priority lanes).
    /// `rateKeys` > 0: each task carries a rate limit (10,000 a minute: never reached) on
    /// one of that many keys (`api-{payload.k}`), round-robin.
    private static func lifeCycle(_ coordinator: EngineProbe, tasks: Int, batch: Int, unique: Uniqueness.Mode? = nil, priorities: [Int] = [0], rateKeys: Int = 0) async throws {
        let payload = Array("{}".utf8)
        var submitted = 0
        while submitted < tasks {
            let n = min(batch, tasks - submitted)
            let first = submitted
            _ = try await coordinator.submit((0..<n).map { index in
                let body = rateKeys > 0 ? Array("{\"k\":\((first + index) % rateKeys)}".utf8) : payload
                var spec = TaskSpec(handler: "noop", payload: body, priority: priorities[(first + index) % priorities.count])
                if let unique { spec.uniqueness = Uniqueness(key: "u-\(first + index)", mode: unique) }
                if rateKeys > 0 { spec.rate = RateLimit(10_000, per: .seconds(60), key: "api-{payload.k}") }
                return spec
            })
            submitted += n
        }
        try await drain(coordinator, batch: batch)
    }

    private static func fanIn(_ coordinator: EngineProbe, parents: Int) async throws {
        var specs = (0..<parents).map { TaskSpec(id: "p\($0)", handler: "noop") }
        specs.append(TaskSpec(id: "child", handler: "noop", prerequisites: specs.map { Prerequisite($0.id!) }))
        _ = try await coordinator.submit(specs)
        try await drain(coordinator, batch: 500)
    }

    private static func fanOut(_ coordinator: EngineProbe, children: Int) async throws {
        var specs = [TaskSpec(id: "root", handler: "noop")]
        specs += (0..<children).map { TaskSpec(id: "c\($0)", handler: "noop", prerequisites: [Prerequisite("root")]) }
        _ = try await coordinator.submit(specs)
        try await drain(coordinator, batch: 500)
    }

    /// Claims and completes until nothing is left, `batch` at a time.
    static func drain(_ coordinator: EngineProbe, batch: Int) async throws {
        while true {
            let claimed = try await coordinator.claim(queues: ["default"], count: batch, lease: .seconds(60), worker: "bench")
            if claimed.isEmpty { return }
            _ = try await coordinator.complete(claimed.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
        }
    }

    static func info(_ client: RedisClient, _ section: String) async throws -> [String: String] {
        let text = try await client.send("INFO", RedisArgument(section)).decodeString()
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    static func cpuSeconds(_ client: RedisClient) async throws -> Double {
        let cpu = try await info(client, "cpu")
        return (Double(cpu["used_cpu_user"] ?? "") ?? 0) + (Double(cpu["used_cpu_sys"] ?? "") ?? 0)
    }

    /// Microseconds spent in FCALL since the last CONFIG RESETSTAT.
    private static func scriptMicroseconds(_ client: RedisClient) async throws -> Double {
        let stats = try await info(client, "commandstats")
        guard let line = stats["cmdstat_fcall"] else { return 0 }
        for part in line.split(separator: ",") where part.hasPrefix("usec=") {
            return Double(part.dropFirst(5)) ?? 0
        }
        return 0
    }
}
