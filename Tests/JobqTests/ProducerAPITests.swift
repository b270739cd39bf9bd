import Jobq
import JobqCore
import JobqRedis
import JobqTestSupport
import Testing

/// The producer API end to end against a real redis-server; a tiny in-test "worker" moves
/// tasks through the coordinator.
@Suite("producer API", .enabled(if: RedisServerFixture.shouldRun))
struct ProducerAPITests {
    struct Resize: Codable, Sendable, Equatable {
        var width: Int
        var height: Int
    }

    func withClient(_ body: (JobqClient) async throws -> Void) async throws {
        let server = try await RedisServerFixture.shared()
        let redis = server.makeClient()
        let namespace = "api-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let client = JobqClient(engine: try Coordinator(redis: redis, namespace: namespace))
        do {
            try await body(client)
        } catch {
            await redis.close()
            throw error
        }
        await redis.close()
    }

    /// Claims and completes one task with `result`.
    func runOne(_ client: JobqClient, result: some Encodable & Sendable) async throws -> ClaimedTask? {
        guard let task = try await client.engine.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "test").first else {
            return nil
        }
        _ = try await client.engine.leases.complete([Completion(lease: task.lease, result: try PayloadCoding.encode(result))])
        return task
    }

    @Test func submitStatusAndTypedResult() async throws {
        try await withClient { client in
            let task = try await client.submit("resize", payload: Resize(width: 10, height: 20))
            #expect(task.state == .pending)
            let claimed = try #require(try await runOne(client, result: Resize(width: 5, height: 10)))
            #expect(try PayloadCoding.decode(Resize.self, from: claimed.payload) == Resize(width: 10, height: 20))
            let info = try await client.status(task.id)
            #expect(info.state == .done && info.handler == "resize" && info.attempts == 1)
            #expect(try await client.result(of: task.id, as: Resize.self) == Resize(width: 5, height: 10))
        }
    }

    @Test func resultOfAnUnfinishedTaskIsAnInvalidStateError() async throws {
        try await withClient { client in
            let task = try await client.submit("noop")
            let error = await #expect(throws: JobqError.self) { _ = try await client.result(of: task.id, as: Int.self) }
            #expect(error?.code == .invalidState)
            let missing = await #expect(throws: JobqError.self) { _ = try await client.status("nope") }
            #expect(missing?.code == .notFound)
        }
    }

    @Test func waitReturnsWhenTheTaskEndsWithoutPolling() async throws {
        try await withClient { client in
            let task = try await client.submit("noop")
            async let waited = client.wait(for: task.id, timeout: .seconds(20))
            try await Task.sleep(for: .milliseconds(100))
            _ = try await runOne(client, result: 42)
            let info = try await waited
            #expect(info.state == .done)
            let timeout = await #expect(throws: JobqError.self) {
                _ = try await client.wait(for: try await client.submit("noop").id, timeout: .milliseconds(200))
            }
            #expect(timeout?.code == .timeout)
        }
    }

    @Test func workflowBuilderSubmitsAtomicallyAndSummarises() async throws {
        try await withClient { client in
            var flow = Workflow("build")
            let fetch = try flow.add("fetch", handler: "http.get", payload: ["url": "https://example.com"])
            let parseA = try flow.add("parse-a", handler: "parse", requires: [fetch])
            let parseB = try flow.add("parse-b", handler: "parse", requires: [fetch])
            let merge = try flow.add("merge", handler: "merge", requires: [parseA, parseB])
            try flow.add("notify", handler: "mail", requires: [merge], policy: .always)
            #expect(try flow.topologicalOrder() == ["fetch", "parse-a", "parse-b", "merge", "notify"])
            let dot = flow.dot()
            #expect(dot.contains("\"fetch\" -> \"parse-a\"") && dot.contains("\"merge\" -> \"notify\""))

            let run = try await client.submit(flow)
            #expect(run.created && run.submitted.count == 5 && run.id.hasPrefix("build-"))
            #expect(run.submitted.map(\.id) == ["fetch", "parse-a", "parse-b", "merge", "notify"].map(run.taskID))
            let before = try await run.status()
            #expect(before.state == .pending && before.definition == "build" && before.summary.description == "5P")
            // The same definition again: a second run that shares nothing with the first.
            let second = try await client.submit(flow)
            #expect(second.id != run.id && second.submitted.first?.id == second.taskID("fetch"))
            try await second.cancel()
            #expect(try await second.wait(timeout: .seconds(5)).state == .cancelled)

            async let finished = run.wait(timeout: .seconds(30))
            var order: [String] = []
            while let task = try await runOne(client, result: "ok") { order.append(RunScope.key(of: task.id)) }
            #expect(order.first == "fetch" && order.last == "notify" && order.count == 5)
            let outcome = try await finished
            #expect(outcome.state == .done && outcome.summary.description == "5D" && outcome.started != nil && outcome.finished != nil)
            let page = try await client.runs(definition: "build")
            #expect(page.runs.map(\.id) == [second.id, run.id] && page.next == nil)
        }
    }

    @Test func workflowBuilderRejectsCyclesAndDuplicatesBeforeRedis() async throws {
        var flow = Workflow("bad")
        let a = try flow.add("a", handler: "h")
        let b = try flow.add("b", handler: "h", requires: [a])
        try flow.require(a, after: b)
        #expect((#expect(throws: JobqError.self) { try flow.topologicalOrder() })?.code == .cycle)
        #expect((#expect(throws: JobqError.self) { try flow.add("a", handler: "h") })?.code == .duplicateID)
        #expect((#expect(throws: JobqError.self) { try flow.add("bad id", handler: "h") })?.code == .invalidName)
        let cyclic = flow
        try await withClient { (client: JobqClient) async throws -> Void in
            let error = await #expect(throws: JobqError.self) { try await client.submit(cyclic) }
            #expect(error?.code == .cycle)
            let listed = try await client.list()
            #expect(listed.isEmpty)
        }
    }

    /// `Workflow.add(concurrency:)`: the key expands over the task's payload when it is added
    /// (a missing field is refused there, before Redis); the run's tasks carry it.
    @Test func workflowTasksTakeAConcurrencyLimit() async throws {
        var flow = Workflow("tenants")
        let limit = ConcurrencyLimit(key: "tenant-{payload.tenant}", limit: 1)
        try flow.add("a", handler: "h", payload: ["tenant": "t1"], concurrency: limit)
        let error = #expect(throws: JobqError.self) { try flow.add("b", handler: "h", payload: ["user": "u"], concurrency: limit) }
        #expect(error?.code == .invalidOption && error?.message.contains("payload.tenant") == true)
        let submitted = flow
        try await withClient { client in
            let run = try await client.submit(submitted)
            let task = try await client.status(run.taskID("a"))
            #expect(task.concurrencyKey == "tenant-t1" && task.concurrencyLimit == 1)
            #expect(try await client.limitUsage(["tenant-t1"]) == [LimitUsage(key: "tenant-t1", running: 0, limit: nil, parked: 0)])
        }
    }

    /// `Workflow.add(rate:)`: the key expands over the payload when the task is added (a missing
    /// field is refused there), the task carries it, `rateUsage` reads it, and a rerun keeps it.
    @Test func workflowTasksTakeARateLimit() async throws {
        var flow = Workflow("calls")
        let rate = RateLimit(100, per: .seconds(60), key: "api-{payload.tenant}")
        try flow.add("a", handler: "h", payload: ["tenant": "t1"], rate: rate)
        let error = #expect(throws: JobqError.self) { try flow.add("b", handler: "h", payload: ["user": "u"], rate: rate) }
        #expect(error?.code == .invalidOption && error?.message.contains("payload.tenant") == true)
        let zero = #expect(throws: JobqError.self) { try flow.add("c", handler: "h", payload: ["tenant": "t1"], rate: RateLimit(0, per: .seconds(1))) }
        #expect(zero?.code == .invalidOption)
        let submitted = flow
        try await withClient { client in
            let run = try await client.submit(submitted)
            let task = try await client.status(run.taskID("a"))
            #expect(task.rate == RateLimit(100, per: .seconds(60), key: "api-t1"))
            let usage = try await client.rateUsage(["api-t1"], rates: ["api-t1": try #require(task.rate)])
            #expect(usage.first?.startsLeft == 100 && usage.first?.parked == 0 && usage.first?.pausedUntil == nil)
            let again = try await client.rerun(run.id)
            #expect(try await client.status(again.taskID("a")).rate == task.rate)
        }
    }

    /// `TaskSpec.priority` / `Workflow.add(priority:)`: stored, read back, and claimed highest
    /// first; out of range is `invalid_option` with nothing written.
    @Test func prioritiesRoundTripAndOutOfRangeIsRefused() async throws {
        var flow = Workflow("prio")
        try flow.add("low", handler: "h", priority: -7)
        try flow.add("high", handler: "h", priority: 7)
        let error = #expect(throws: JobqError.self) { try flow.add("bad", handler: "h", priority: 101) }
        #expect(error?.code == .invalidOption && error?.message.contains("-100 to 100") == true, "\(String(describing: error))")
        let submitted = flow
        try await withClient { client in
            let refused = await #expect(throws: JobqError.self) { _ = try await client.submit(TaskSpec(handler: "h", priority: -101)) }
            #expect(refused?.code == .invalidOption)
            #expect(try await client.list().isEmpty, "nothing written")
            let run = try await client.submit(submitted)
            #expect(try await client.status(run.taskID("high")).priority == 7)
            #expect(try await client.status(run.taskID("low")).priority == -7)
            let pending = try await client.list(state: .pending)
            #expect(pending.map(\.id) == [run.taskID("high"), run.taskID("low")], "listed in claim order")
        }
    }

    @Test func sequenceChainsTasks() throws {
        var flow = Workflow()
        let refs = try (0..<4).map { try flow.add("s\($0)", handler: "h") }
        try flow.sequence(refs)
        #expect(try flow.topologicalOrder() == ["s0", "s1", "s2", "s3"])
        #expect(flow.tasks[3].prerequisites.map(\.id) == ["s2"])
    }

    @Test func cancelRetryAndList() async throws {
        try await withClient { client in
            let a = try await client.submit("noop", queue: "q1", maxAttempts: 1)
            let b = try await client.submit("noop", queue: "q1", after: [a.id])
            #expect(try await client.cancel(a.id) == .cancelled)
            #expect(try await client.status(b.id).state == .cancelled)
            #expect(Set(try await client.list(state: .cancelled).map(\.id)) == [a.id, b.id])
            #expect(try await client.retry(a.id) == [a.id, b.id])
            #expect(try await client.list(state: .pending, queue: "q1").map(\.id).contains(a.id))
            #expect(try await client.list(queue: "other").isEmpty)
        }
    }

    @Test func idempotentSubmitReturnsTheSameTask() async throws {
        try await withClient { client in
            let first = try await client.submit("charge", payload: ["order": 7], idempotencyKey: "order-7")
            let again = try await client.submit("charge", payload: ["order": 7], idempotencyKey: "order-7")
            #expect(first.id == again.id)
            let conflict = await #expect(throws: JobqError.self) {
                try await client.submit("charge", payload: ["order": 8], idempotencyKey: "order-7")
            }
            #expect(conflict?.code == .idempotencyConflict)
        }
    }
}
