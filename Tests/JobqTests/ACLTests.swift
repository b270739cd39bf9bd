import Jobq
import JobqCore
import JobqRedis
import JobqTestSupport
import Testing

/// The ACL of docs/security.md is complete: a whole workload runs as the restricted users, each
/// confined to its namespace, and nothing is written outside `jobq:*`.
@Suite("Redis ACL (docs/security.md)", .enabled(if: RedisServerFixture.shouldRun))
struct ACLTests {
    /// A private server: the default user off, `jobq-a` and `jobq-b` as documented
    /// (``DocumentedACL``, read from docs/security.md), and an admin.
    static func withACLServer(_ body: (RedisServerFixture) async throws -> Void) async throws {
        try await withRedisServer(extraConfig: try DocumentedACL.serverConfig(namespaces: ["a", "b"]), body)
    }

    static func isNoPerm(_ error: any Error) -> Bool {
        guard let error = error as? JobqError else { return false }
        return error.code == .redisError && error.serverError?.prefix == "NOPERM"
    }

    static func client(_ server: RedisServerFixture, user: String, password: String) -> RedisClient {
        server.makeClient {
            $0.username = user
            $0.password = password
        }
    }

    @Test func theDocumentedACLRunsACompleteWorkload() async throws {
        try await Self.withACLServer { server in
            let admin = Self.client(server, user: "admin", password: "secret-admin")
            let redisA = Self.client(server, user: "jobq-a", password: "secret-a")
            let redisB = Self.client(server, user: "jobq-b", password: "secret-b")
            defer { Task { for client in [admin, redisA, redisB] { await client.close() } } }
            let clock = ManualClock()
            let a = try Coordinator(redis: redisA, namespace: "a", clock: .manual(clock))

            // The default user is off.
            let anonymous = server.makeClient()
            await #expect(throws: (any Error).self) { try await anonymous.send("PING") }
            await anonymous.close()

            try await redisA.loadScripts(Scripts.all)  // SCRIPT LOAD
            try await Self.workload(a, clock: clock, admin: admin)
            // FCALL and FUNCTION LOAD are not granted: the calls ran as EVALSHA scripts (the
            // same code), and no library was loaded (a tenant may not replace one by name).
            #expect(try await admin.send("FUNCTION", "LIST").decodeArray().isEmpty)
            #expect(try await admin.send("INFO", "commandstats").decodeString().contains("cmdstat_evalsha:"))

            // Namespace b works for its own user too.
            let b = try Coordinator(redis: redisB, namespace: "b", clock: .manual(clock))
            _ = try await b.tasks.submit([TaskSpec(id: "b1", handler: "noop")])
            let claimedB = try await b.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "wb")
            #expect(try await b.leases.complete(claimedB.map { Completion(lease: $0.lease, result: Array("1".utf8)) }) == [.done])

            // Each user is confined to its namespace: scripts, reads and plain writes.
            let aInB = try Coordinator(redis: redisA, namespace: "b")
            let bInA = try Coordinator(redis: redisB, namespace: "a")
            for (coordinator, other) in [(aInB, "b"), (bInA, "a")] {
                for attempt in 0..<4 {
                    do {
                        switch attempt {
                        case 0: _ = try await coordinator.tasks.submit([TaskSpec(id: "intruder", handler: "noop")])
                        case 1: _ = try await coordinator.tasks.task(other == "b" ? "b1" : "w1")
                        case 2: try await coordinator.maintenance.pause(queue: "default")
                        default: _ = try await coordinator.inspector.stats()
                        }
                        Issue.record("user of the other namespace reached namespace \(other) (attempt \(attempt))")
                    } catch {
                        #expect(Self.isNoPerm(error), "\(error)")
                    }
                }
            }
            #expect(try await admin.send("EXISTS", "jobq:{b}:t:intruder").int == 0)
            #expect(try await admin.send("SISMEMBER", "jobq:{b}:paused", "default").int == 0)

            // Nothing outside jobq:*.
            var cursor = "0"
            var keys: [String] = []
            for _ in 0..<10_000 {
                let reply = try await admin.send("SCAN", RedisArgument(cursor), "COUNT", 1000).decodeArray()
                cursor = try reply[0].decodeString()
                keys += try reply[1].decodeArray().map { try $0.decodeString() }
                if cursor == "0" { break }
            }
            #expect(!keys.isEmpty)
            #expect(keys.allSatisfy { $0.hasPrefix("jobq:{a}:") || $0.hasPrefix("jobq:{b}:") }, "\(keys.filter { !$0.hasPrefix("jobq:{") })")
        }
    }

    /// Every operation of the library, as the restricted user of namespace `a`.
    static func workload(_ a: Coordinator, clock: ManualClock, admin: RedisClient) async throws {
        let client = JobqClient(engine: a)
        let ok = Array("\"ok\"".utf8)
        // Submit a workflow with dependencies (idempotently), and a delayed task.
        let flow = [
            TaskSpec(id: "w1", handler: "noop"),
            TaskSpec(id: "w2", handler: "noop", prerequisites: [Prerequisite("w1")], maxAttempts: 2),
            TaskSpec(id: "w3", handler: "noop", prerequisites: [Prerequisite("w2")]),
            TaskSpec(id: "w4", handler: "noop", prerequisites: [Prerequisite("w2", policy: .always)]),
        ]
        #expect(try await a.tasks.submit(flow, workflow: "flow", idempotencyKey: "k1").created)
        #expect(try await a.tasks.submit(flow, workflow: "flow", idempotencyKey: "k1").created == false)
        _ = try await a.tasks.submit([TaskSpec(id: "later", handler: "noop", delay: .seconds(5))])

        // Workers: register, wait for work, maintenance lock.
        try await a.leases.register(worker: .init(id: "w", host: "h", pid: 1, queues: ["default"], concurrency: 1, running: []), ttl: .seconds(60))
        #expect(try await a.leases.waitForWork(queues: ["default"], timeout: .milliseconds(200)))
        #expect(try await a.maintenance.tryMaintenanceLock(owner: "w", for: .seconds(5)))

        // w1: claim, heartbeat, progress and log, complete.
        var claimed = try await a.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
        #expect(claimed.map(\.id) == ["w1"])
        #expect(try await a.leases.heartbeat([claimed[0].lease], lease: .seconds(30), worker: "w") == [.extended])
        #expect(try await a.leases.report(claimed[0].lease, progress: [ProgressEntry(current: 1, total: 2)], log: ["half"]) == .extended)
        #expect(try await a.tasks.progress(of: "w1").count == 1)
        #expect(try await a.tasks.logs(of: "w1") == ["half"])
        #expect(try await a.leases.complete([Completion(lease: claimed[0].lease, result: ok)]) == [.done])

        // w2: fail with a retry, promote, fail for good (w3 cancelled, w4 released), then retry.
        claimed = try await a.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
        #expect(claimed.map(\.id) == ["w2"])
        #expect(try await a.leases.fail([Failure(lease: claimed[0].lease, mode: .retry(delay: .seconds(1)), reason: "error", message: "x")]) == [.retrying])
        clock.advance(by: .seconds(2))
        #expect(try await a.maintenance.promote().promoted == 1)
        claimed = try await a.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
        #expect(claimed.map(\.id) == ["w2"])
        #expect(try await a.leases.fail([Failure(lease: claimed[0].lease, mode: .final, reason: "error", message: "x")]) == [.failed])
        #expect(try await a.tasks.task("w3")?.state == .cancelled)
        #expect(try await a.tasks.retry(task: "w2") == ["w2", "w3"])

        // w4 (released by w2's end) and w2: claim; w4's lease expires and is reaped.
        claimed = try await a.leases.claim(queues: ["default"], count: 2, lease: .seconds(30), worker: "w")
        #expect(Set(claimed.map(\.id)) == ["w4", "w2"])
        clock.advance(by: .seconds(31))
        #expect(Set(try await a.maintenance.reap().map(\.id)) == ["w4", "w2"])
        #expect(try await a.maintenance.promote().promoted == 1)  // `later` is due
        for _ in 0..<10 {
            let batch = try await a.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
            if batch.isEmpty { break }
            #expect(try await a.leases.complete(batch.map { Completion(lease: $0.lease, result: ok) }).allSatisfy { $0 == .done })
        }
        #expect(try await client.summary(workflow: "flow").counts[.done] == 4)
        #expect(try await client.wait(forWorkflow: "flow", timeout: .seconds(5)).counts[.done] == 4)
        #expect(try await client.wait(for: "later", timeout: .seconds(5)).state == .done)

        // Cancel: a task, a running task (a request), a workflow; pause and resume.
        _ = try await a.tasks.submit([TaskSpec(id: "c1", handler: "noop", queue: "slow")])
        #expect(try await a.tasks.cancel(task: "c1") == .cancelled)
        _ = try await a.tasks.submit([TaskSpec(id: "c2", handler: "noop", queue: "slow"), TaskSpec(id: "c3", handler: "noop", queue: "slow", prerequisites: [Prerequisite("c2")])], workflow: "doomed")
        let running = try await a.leases.claim(queues: ["slow"], count: 1, lease: .seconds(30), worker: "w")
        #expect(try await a.tasks.cancel(task: "c2") == .requested)
        #expect(try await a.leases.fail([Failure(lease: running[0].lease, mode: .cancelled, reason: "cancelled", message: "stop")]) == [.cancelled])
        #expect(try await a.tasks.cancel(workflow: "doomed").cancelled == 0)
        try await a.maintenance.pause(queue: "slow")
        try await a.maintenance.resume(queue: "slow")

        // Reads.
        #expect(try await client.status("w1").state == .done)
        #expect(try await client.list(state: .done).count >= 5)
        #expect(try await a.tasks.taskIDs(in: .pending).isEmpty)
        #expect(try await a.tasks.taskIDs(in: .running).isEmpty)
        #expect(try await a.tasks.taskStates(["w1", "c1"]) == [.done, .cancelled])
        #expect(try await a.inspector.stats()["done"] ?? 0 >= 5)
        #expect(try await a.inspector.queues().map(\.name) == ["default", "slow"])
        #expect(try await a.inspector.workers().map(\.id) == ["w"])
        #expect(try await a.inspector.snapshot().queueCount == 2)  // the cluster metrics' reads (ZCOUNT, SCARD)
        #expect(try await a.inspector.overview().finished[.cancelled] == 3)
        #expect(try await a.inspector.serverTime() > 0)
        #expect(try await a.inspector.finishedTaskIDs(in: .done).count >= 5)
        let last = try await a.inspector.lastEventID()
        #expect(last != "0-0")
        #expect(try await a.inspector.events(after: "0-0", block: nil).records.isEmpty == false)
        #expect(try await a.inspector.events(after: last, block: .milliseconds(50)).records.isEmpty)  // XREAD BLOCK

        // Doctor (SCAN, the doctor script) and the server check (INFO; CONFIG is not granted).
        _ = try await a.tasks.submit([TaskSpec(id: "lost", handler: "noop")])
        _ = try await a.redis.send("LREM", RedisArgument(a.keys.ready("default")), 0, "lost")
        let report = try await a.maintenance.repair()
        #expect(report.problems.map(\.kind) == [.stranded])
        #expect(try await a.maintenance.diagnose().isConsistent)
        let check = try await a.inspector.checkServer()
        #expect(check.evictionPolicy == "noeviction" && check.appendOnly == false && check.saveRules == nil)
        #expect(check.notes.map(\.code) == ["persistence_unknown"])

        // A flushed script cache: EVALSHA gets NOSCRIPT and the client loads the script again.
        _ = try await admin.send("SCRIPT", "FLUSH")
        #expect(try await a.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w").map(\.id) == ["lost"])

        // Doctor's concurrency-limit recount, and the migration of records of the format before
        // 2026-12-07 (SPOP, LINDEX, SISMEMBER…); then a completion wakes the re-indexed key.
        var keyed: [TaskSpec] = []
        for id in ["k1", "k2"] {
            var task = TaskSpec(id: id, handler: "noop")
            task.concurrency = ConcurrencyLimit(key: "smtp", limit: 1)
            keyed.append(task)
        }
        _ = try await a.tasks.submit(keyed)
        let held = try await a.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
        #expect(held.map(\.id) == ["k1"])
        for command in [
            RedisCommand("HSET", [RedisArgument(a.keys.legacyLimit("smtp")), "running", "1", "limit", "1"]),
            RedisCommand("SADD", [RedisArgument(a.keys.legacyLimits), "smtp"]),
            RedisCommand("SREM", [RedisArgument(a.keys.limitParkedKeys), "smtp"]),
            RedisCommand("HSET", [RedisArgument(a.keys.limitCounts), "smtp", "3 1"]),
        ] { try await a.redis.send(command).throwIfError() }
        let limits = try await a.maintenance.repair().limits
        #expect(limits.problems.map(\.kind) == [.drift] && limits.legacyMigrated == 1 && limits.legacyIndexed == 1, "\(limits)")
        #expect(try await a.maintenance.diagnose().isConsistent)
        _ = try await a.leases.complete(held.map { Completion(lease: $0.lease, result: Array("null".utf8)) })
        #expect(try await a.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w").map(\.id) == ["k2"])


        // Purge finished records; unregister the worker.
        let finished = try await a.inspector.finishedTaskIDs(in: .done) + a.inspector.finishedTaskIDs(in: .cancelled)
        #expect(try await a.maintenance.purge(finished: finished) == finished.count)
        #expect(try await a.tasks.task("w1") == nil)
        try await a.leases.unregister(worker: "w")
        #expect(try await a.inspector.workers().isEmpty)
    }
}
