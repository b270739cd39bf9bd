import Foundation
import Jobq
import JobqCore
import JobqMetrics
import JobqRedis
import JobqTestSupport
import Testing

/// The cluster metrics read from a real redis-server: exact figures for a namespace put in a
/// known state, bounded reads with 20,000 tasks, label hygiene, and the docs listing them all.
@Suite("cluster metrics", .enabled(if: RedisServerFixture.shouldRun))
struct ClusterMetricsTests {
    static func client(on server: RedisServerFixture) throws -> (JobqClient, RedisClient) {
        let redis = server.makeClient()
        return (JobqClient(engine: try Coordinator(redis: redis, namespace: RedisServerFixture.uniqueNamespace())), redis)
    }

    /// Standalone tasks in four queues and every state, a paused queue, a stale id at the old
    /// end of a lane, two runs, a worker: every figure is the one the setup implies.
    @Test func exactFiguresForAKnownNamespace() async throws {
        let (client, redis) = try Self.client(on: try await RedisServerFixture.shared())
        defer { Task { await redis.close() } }
        let leases = client.engine.leases
        func submit(_ id: String, _ queue: String, after: [String] = [], delay: Duration = .zero) async throws {
            try await client.submit(TaskSpec(id: id, handler: "h", queue: queue, prerequisites: after.map { Prerequisite($0) }, delay: delay))
        }
        try await submit("a1", "alpha")
        try await submit("a2", "alpha")
        try await Task.sleep(for: .milliseconds(300))
        try await submit("a3", "alpha")
        try await submit("w1", "alpha", after: ["a3"])
        try await submit("d1", "alpha", delay: .seconds(3600))
        try await submit("b1", "beta")
        try await submit("b2", "beta")
        _ = try await client.pause(queue: "beta")
        try await submit("g1", "gamma")
        try await submit("g2", "gamma")
        // a1 runs; a2 is cancelled while queued, so its stale id is the old end of alpha's lane
        let a1 = try #require(try await leases.claim(queues: ["alpha"], count: 1, lease: .seconds(60), worker: "test").first)
        #expect(a1.id == "a1")
        _ = try await client.cancel("a2")
        let gammas = try await leases.claim(queues: ["gamma"], count: 2, lease: .seconds(60), worker: "test")
        #expect(gammas.map(\.id) == ["g1", "g2"])
        _ = try await leases.complete([Completion(lease: gammas[0].lease, result: Array("1".utf8))])
        _ = try await leases.fail([Failure(lease: gammas[1].lease, mode: .final, reason: "error", message: "boom")])
        // two runs of a two-task chain: the first one's first task runs, the second waits
        for run in ["nightly-1", "nightly-2"] {
            var flow = Workflow("nightly")
            let fetch = try flow.add("fetch", handler: "h", queue: "rq")
            try flow.add("load", handler: "h", queue: "rq", requires: [fetch])
            try await client.submit(flow, run: run)
        }
        #expect(try await leases.claim(queues: ["rq"], count: 1, lease: .seconds(60), worker: "test").map(\.id) == ["nightly-1/fetch"])
        try await leases.register(worker: WorkerInfo(id: "w-7", host: "h", pid: 1, queues: ["alpha"], concurrency: 4, running: ["a1"]), ttl: .seconds(60))

        let snapshot = try await client.engine.inspector.snapshot()
        let a3 = try await client.status("a3")
        let alpha = try #require(snapshot.queues.first { $0.name == "alpha" })
        // the stale a2 is passed over: the oldest claimable task is a3, not a2 (300 ms older)
        #expect(alpha.oldestAge == Double(snapshot.now - (a3.created ?? 0)) / 1000)
        #expect(alpha.lanes == [.ready: 2, .recovered: 0, .quarantine: 0])

        let text = try await ClusterMetrics.prometheusText(client: client)
        let found = samples(text)
        let expected: [(String, [String: String], Double)] = [
            ("jobq_tasks", ["state": "pending"], 9), // w1 + 2 loads waiting, d1 delayed, a3 a2 b1 b2 nightly-2/fetch queued
            ("jobq_tasks", ["state": "running"], 2),
            ("jobq_tasks", ["state": "done"], 1),
            ("jobq_tasks", ["state": "skipped"], 0),
            ("jobq_tasks", ["state": "failed"], 1),
            ("jobq_tasks", ["state": "cancelled"], 1),
            ("jobq_tasks_waiting", [:], 3),
            ("jobq_tasks_delayed", [:], 1),
            ("jobq_tasks_delayed_due", [:], 0),
            ("jobq_leases_expired", [:], 0),
            ("jobq_queues", [:], 4),
            ("jobq_queue_tasks", ["queue": "alpha", "lane": "ready"], 2),
            ("jobq_queue_tasks", ["queue": "beta", "lane": "ready"], 2),
            ("jobq_queue_tasks", ["queue": "gamma", "lane": "ready"], 0),
            ("jobq_queue_tasks", ["queue": "rq", "lane": "ready"], 1),
            ("jobq_queue_tasks", ["queue": "alpha", "lane": "recovered"], 0),
            ("jobq_queue_tasks", ["queue": "alpha", "lane": "quarantine"], 0),
            ("jobq_queue_paused", ["queue": "beta"], 1),
            ("jobq_queue_paused", ["queue": "alpha"], 0),
            ("jobq_queue_latency_seconds", ["queue": "gamma"], 0),
            ("jobq_workers", [:], 1),
            ("jobq_slots", [:], 4),
            ("jobq_slots_busy", [:], 1),
            ("jobq_runs", ["state": "pending"], 1),
            ("jobq_runs", ["state": "running"], 1),
            ("jobq_runs_kept", [:], 2),
            ("jobq_tasks_submitted_total", [:], 13),
            ("jobq_tasks_claimed_total", [:], 4),
            ("jobq_tasks_finished_total", ["outcome": "done"], 1),
            ("jobq_tasks_finished_total", ["outcome": "failed"], 1),
            ("jobq_tasks_finished_total", ["outcome": "cancelled"], 1),
            ("jobq_tasks_finished_total", ["outcome": "skipped"], 0),
            ("jobq_runs_finished_total", ["state": "done"], 0),
        ]
        for (name, labels, value) in expected {
            #expect(found.value(name, labels) == value, "\(name)\(labels)")
        }
        // a paused queue's tasks still age; b1 came after a3, so beta's oldest is younger
        let alphaAge = try #require(found.value("jobq_queue_latency_seconds", ["queue": "alpha"]))
        let betaAge = try #require(found.value("jobq_queue_latency_seconds", ["queue": "beta"]))
        #expect(alphaAge > 0 && betaAge > 0 && betaAge <= alphaAge)
        #expect(text.contains("# TYPE jobq_tasks_submitted_total counter"))
        #expect(text.contains("# TYPE jobq_queue_latency_seconds gauge"))

        // Label hygiene: only bounded label names, and no value is an id of anything.
        let ids: Set<String> = ["a1", "a2", "a3", "w1", "d1", "b1", "b2", "g1", "g2", "nightly-1", "nightly-2", "w-7",
                                "nightly-1/fetch", "nightly-1/load", "nightly-2/fetch", "nightly-2/load", "test"]
        for sample in found {
            #expect(Set(sample.labels.keys).isSubset(of: ["queue", "lane", "state", "outcome"]), "\(sample)")
            #expect(Set(sample.labels.values).isDisjoint(with: ids), "\(sample)")
        }
        #expect(Set(found.map(\.name)) == Set(ClusterMetrics.families.map(\.name)))
    }

    /// Runs ending: the run gauges follow them down and the finished counter up; a reaped
    /// lease counts in `jobq_leases_expired_total`.
    @Test func runsEndAndLeasesExpire() async throws {
        let (client, redis) = try Self.client(on: try await RedisServerFixture.shared())
        defer { Task { await redis.close() } }
        let leases = client.engine.leases
        var flow = Workflow("one")
        try flow.add("only", handler: "h", queue: "q1")
        try await client.submit(flow, run: "one-1")
        try await client.submit(TaskSpec(id: "lost", handler: "h", queue: "q2"))
        let only = try #require(try await leases.claim(queues: ["q1"], count: 1, lease: .seconds(60), worker: "t").first)
        var found = samples(try await ClusterMetrics.prometheusText(client: client))
        #expect(found.value("jobq_runs", ["state": "running"]) == 1)
        _ = try await leases.complete([Completion(lease: only.lease, result: Array("null".utf8))])
        _ = try #require(try await leases.claim(queues: ["q2"], count: 1, lease: .milliseconds(50), worker: "gone").first)
        try await Task.sleep(for: .milliseconds(150))
        found = samples(try await ClusterMetrics.prometheusText(client: client))
        #expect(found.value("jobq_leases_expired") == 1)
        #expect(found.value("jobq_runs", ["state": "running"]) == 0)
        #expect(found.value("jobq_runs", ["state": "pending"]) == 0)
        #expect(found.value("jobq_runs_finished_total", ["state": "done"]) == 1)
        _ = try await client.engine.maintenance.reap()
        found = samples(try await ClusterMetrics.prometheusText(client: client))
        #expect(found.value("jobq_leases_expired") == 0)
        #expect(found.value("jobq_leases_expired_total") == 1)
        #expect(found.value("jobq_tasks_recovered_total") == 1)
        #expect(found.value("jobq_queue_tasks", ["queue": "q2", "lane": "recovered"]) == 1)
    }

    /// A run cancelled before any task ran, retried, then claimed: it is RUNNING once, not
    /// twice (the first claim of a re-opened run is no PENDING -> RUNNING change).
    @Test func aRunRetriedBeforeItStartedCountsOnce() async throws {
        let (client, redis) = try Self.client(on: try await RedisServerFixture.shared())
        defer { Task { await redis.close() } }
        var flow = Workflow("again")
        try flow.add("only", handler: "h", queue: "q")
        try await client.submit(flow, run: "again-1")
        _ = try await client.cancel(workflow: "again-1")
        var found = samples(try await ClusterMetrics.prometheusText(client: client))
        #expect(found.value("jobq_runs", ["state": "pending"]) == 0)
        #expect(found.value("jobq_runs_finished_total", ["state": "cancelled"]) == 1)
        _ = try await client.retry(run: "again-1")
        let only = try #require(try await client.engine.leases.claim(queues: ["q"], count: 1, lease: .seconds(60), worker: "t").first)
        found = samples(try await ClusterMetrics.prometheusText(client: client))
        #expect(found.value("jobq_runs", ["state": "running"]) == 1)
        #expect(found.value("jobq_runs", ["state": "pending"]) == 0)
        _ = try await client.engine.leases.complete([Completion(lease: only.lease, result: Array("null".utf8))])
        found = samples(try await ClusterMetrics.prometheusText(client: client))
        #expect(found.value("jobq_runs", ["state": "running"]) == 0)
        #expect(found.value("jobq_runs_finished_total", ["state": "done"]) == 1)
        let stats = try await client.engine.inspector.stats()
        #expect(stats["run_running"] == stats["run_left_running"])
        #expect(stats["run_pending"] == stats["run_left_pending"])
    }

    /// A worker whose registration expired (it died; no other worker pruned its index entry)
    /// is not counted, nor are its slots; a live one is, with its heartbeat's age.
    @Test func aDeadWorkerDoesNotCount() async throws {
        let (client, redis) = try Self.client(on: try await RedisServerFixture.shared())
        defer { Task { await redis.close() } }
        let leases = client.engine.leases
        try await leases.register(worker: WorkerInfo(id: "dead", host: "h", pid: 1, queues: ["q"], concurrency: 8, running: ["x", "y"]), ttl: .milliseconds(100))
        try await Task.sleep(for: .milliseconds(300))
        try await leases.register(worker: WorkerInfo(id: "live", host: "h", pid: 2, queues: ["q"], concurrency: 2, running: []), ttl: .seconds(60))
        #expect(try await redis.send("ZCARD", RedisArgument(client.engine.keys.workers)).int == 2) // not pruned: its ttl was not the live one's
        let found = samples(try await ClusterMetrics.prometheusText(client: client))
        #expect(found.value("jobq_workers") == 1)
        #expect(found.value("jobq_slots") == 2)
        #expect(found.value("jobq_slots_busy") == 0)
        #expect((found.value("jobq_workers_oldest_heartbeat_age_seconds") ?? 99) < 0.3)
    }

    /// A scrape issues the same Redis commands with 20,000 tasks queued as with 20 (counted by
    /// the server), and none of them shows in SLOWLOG at 10 ms.
    @Test func aScrapeIsBoundedWhateverTheBacklog() async throws {
        let server = try await RedisServerFixture.start()
        let (client, redis) = try Self.client(on: server)
        func commands() async throws -> Int {
            _ = try await redis.send("CONFIG", "RESETSTAT")
            _ = try await client.engine.inspector.snapshot()
            let info = try await redis.send("INFO", "commandstats").decodeString()
            // cmdstat_zcard:calls=12,usec=…; the CONFIG RESETSTAT itself is reset, INFO runs after
            return info.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("cmdstat_") && !$0.hasPrefix("cmdstat_info:") }.reduce(0) { total, line in
                let calls = line.split(separator: "calls=").dropFirst().first?.prefix { $0.isNumber } ?? "0"
                return total + (Int(calls) ?? 0)
            }
        }
        do {
            try await client.engine.leases.register(worker: WorkerInfo(id: "w", host: "h", pid: 1, queues: ["one"], concurrency: 8, running: []), ttl: .seconds(60))
            for (queue, count) in [("one", 10), ("two", 10)] {
                _ = try await client.submit((0..<count).map { _ in TaskSpec(handler: "h", queue: queue) })
            }
            let small = try await commands()
            for batch in 0..<20 {
                _ = try await client.submit((0..<1000).map { _ in TaskSpec(handler: "h", queue: batch % 2 == 0 ? "one" : "two") })
            }
            _ = try await redis.send("CONFIG", "SET", "slowlog-log-slower-than", 10_000)
            _ = try await redis.send("SLOWLOG", "RESET")
            let large = try await commands()
            let slow = try await redis.send("SLOWLOG", "GET", 10)
            print("cluster metrics: a scrape issued \(small) Redis commands with 20 tasks, \(large) with 20,020")
            #expect(small == large)
            // 16 reads; 2 + 1 per queue (its levels) + 1 per worker; 2 per lane (3 lanes per
            // queue without priorities); at most 4 ids per lane looked up
            #expect(large <= 16 + 2 + 1 * 2 + 1 + 2 * 3 * 2 + 4 * 3 * 2)
            #expect(slow.array?.isEmpty == true, "\(slow)")
            let found = samples(try await ClusterMetrics.prometheusText(client: client))
            #expect(found.value("jobq_tasks", ["state": "pending"]) == 20_020)
            #expect(found.value("jobq_queue_tasks", ["queue": "one", "lane": "ready"]) == 10_010)
        } catch {
            await redis.close()
            await server.stop()
            throw error
        }
        await redis.close()
        await server.stop()
    }

    /// A queue whose only ready task has a priority other than 0 waits in `q:<queue>:p:<n>`, or
    /// on its fair key's list (`q:<queue>:f:<P>:<KEY>`), not the default lane: the snapshot
    /// reads every priority lane and fair key in use, counts it as ready and ages it, as `jobq
    /// queues` does (one code path: the same figures).
    @Test func aTaskOfAnotherPriorityCountsAndAgesItsQueue() async throws {
        let (client, redis) = try Self.client(on: try await RedisServerFixture.shared())
        defer { Task { await redis.close() } }
        try await client.submit(TaskSpec(id: "urgent", handler: "h", queue: "prio", priority: 5))
        try await client.submit(TaskSpec(id: "later", handler: "h", queue: "low", priority: -3))
        var keyed = TaskSpec(id: "keyed", handler: "h", queue: "fair", priority: 2)
        keyed.fairKey = "tenant-1" // waits on its fair key's list, not the lane's
        try await client.submit(keyed)
        try await Task.sleep(for: .milliseconds(300))
        let snapshot = try await client.engine.inspector.snapshot()
        let listed = try await client.queues()
        for (queue, id) in [("prio", "urgent"), ("low", "later"), ("fair", "keyed")] {
            let read = try #require(snapshot.queues.first { $0.name == queue })
            let created = try #require(try await client.status(id).created)
            #expect(read.lanes[.ready] == 1 && read.lanes[.recovered] == 0 && read.lanes[.quarantine] == 0, "\(read)")
            #expect(read.oldestAge == Double(snapshot.now - created) / 1000, "\(read)")
            #expect((read.oldestAge ?? 0) >= 0.3)
            let queueInfo = try #require(listed.first { $0.name == queue })
            #expect(queueInfo.ready == 1)
            #expect(abs((queueInfo.oldestAge ?? -100) - (read.oldestAge ?? 100)) < 5, "\(queueInfo) \(read)")
        }
        let found = samples(try await ClusterMetrics.prometheusText(client: client))
        #expect(found.value("jobq_queue_tasks", ["queue": "prio", "lane": "ready"]) == 1)
        #expect((found.value("jobq_queue_latency_seconds", ["queue": "prio"]) ?? 0) >= 0.3)
    }

    /// The caps: with more queues than the cap, the first ones by name are read and
    /// `jobq_queues` still counts them all.
    @Test func queuesBeyondTheCapCountButAreNotRead() async throws {
        let (client, redis) = try Self.client(on: try await RedisServerFixture.shared())
        defer { Task { await redis.close() } }
        for queue in ["q-a", "q-b", "q-c"] { try await client.submit(TaskSpec(handler: "h", queue: queue)) }
        var limits = Inspector.SnapshotLimits()
        limits.queues = 2
        let snapshot = try await client.engine.inspector.snapshot(limits: limits)
        #expect(snapshot.queueCount == 3)
        #expect(snapshot.queues.map(\.name) == ["q-a", "q-b"])
    }

    /// The worker's metrics, from the table in WorkerMetrics.swift's doc comment (some names are
    /// built by interpolation, so the code's string literals do not list them all).
    static func workerMetricNames() throws -> Set<String> {
        let worker = try String(contentsOfFile: packageRoot + "/Sources/JobqWorker/WorkerMetrics.swift", encoding: .utf8)
        return Set(worker.matches(of: /`(jobq_worker_[a-z_]+)`/).map { String($0.1) })
    }

    /// docs/operations.md lists every metric: the cluster's and the worker's.
    @Test func everyMetricIsDocumented() throws {
        let doc = try String(contentsOfFile: packageRoot + "/docs/operations.md", encoding: .utf8)
        for family in ClusterMetrics.families {
            #expect(doc.contains("`\(family.name)`"), "\(family.name) is not in docs/operations.md")
        }
        let names = try Self.workerMetricNames()
        #expect(names.count >= 14)
        for name in names {
            #expect(doc.contains("`\(name)`"), "\(name) is not in docs/operations.md")
        }
    }

    /// The shipped Grafana dashboard is valid JSON and queries only metrics that exist.
    @Test func theGrafanaDashboardAndAlertsUseRealMetrics() throws {
        let dashboard = try String(contentsOfFile: packageRoot + "/docs/grafana/jobq-dashboard.json", encoding: .utf8)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(dashboard.utf8)) as? [String: Any])
        let panels = try #require(json["panels"] as? [[String: Any]])
        #expect(panels.count >= 7)
        let alerts = try String(contentsOfFile: packageRoot + "/docs/alerts/jobq-alerts.yaml", encoding: .utf8)
        let known = Set(ClusterMetrics.families.map(\.name)).union(try Self.workerMetricNames())
        for text in [dashboard, alerts] {
            for match in text.matches(of: /jobq_[a-z_]+/) {
                var name = String(match.0)
                for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) && !known.contains(name) {
                    name = String(name.dropLast(suffix.count))
                }
                // (a name cut short, `jobq_worker_…` in a comment, is not one)
                if !name.hasSuffix("_") {
                    #expect(known.contains(name), "\(name) is not a metric jobq exports")
                }
            }
        }
    }
}
