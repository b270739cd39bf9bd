import Foundation
import Jobq
import JobqCore
import JobqWorker
import Synchronization
import Testing

/// Sub-workflows on a real worker: the built-in `jobq.run` starts the child run, the parent task
/// waits without a slot (a worker of concurrency 1 runs a three-level tree), and a cancel at the
/// top reaches the handler running three levels down.
@Suite("sub-workflows on a worker", .enabled(if: redisAvailable))
struct SubWorkflowWorkerTests {
    /// a → [ child: b → [ grandchild: c ] ] → d, on one worker of concurrency 1.
    static func tree(leaf: String, leafPayload: some Encodable & Sendable) throws -> Workflow {
        var grandchild = Workflow("grandchild")
        try grandchild.add("c", handler: leaf, payload: leafPayload)
        var child = Workflow("child")
        let b = try child.add("b", handler: "echo", payload: "from b")
        try child.add("inner", subWorkflow: grandchild, output: "c", requires: [b])
        var top = Workflow("top")
        let a = try top.add("a", handler: "echo", payload: "from a")
        let sub = try top.add("sub", subWorkflow: child, output: "inner", requires: [a])
        try top.add("d", handler: "echo", payload: "from d", requires: [sub])
        return top
    }

    @Test func aThreeLevelTreeRunsOnOneSlotAndPassesTheOutputUp() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("echo", raw: { payload, _ in payload })
            try harness.startWorker(registry) { $0.concurrency = 1 }
            let run = try await harness.client.submit(try Self.tree(leaf: "echo", leafPayload: "deepest"), run: "t")
            let outcome = try await run.wait(timeout: .seconds(30))
            #expect(outcome.state == .done && outcome.counts == [.done: 3], "\(outcome)")
            // The leaf's result came up two levels: c → inner → sub.
            #expect(try await harness.client.status("t.sub/inner").result == Array("\"deepest\"".utf8))
            #expect(try await harness.client.status("t/sub").result == Array("\"deepest\"".utf8))
            #expect(try await harness.client.run("t.sub").state == .done)
            #expect(try await harness.client.run("t.sub.inner").state == .done)
        }
    }

    @Test func aCancelAtTheTopReachesTheHandlerThreeLevelsDown() async throws {
        try await withHarness { harness in
            let started = Mutex(false)
            let stopped = Mutex(false)
            var registry = HandlerRegistry()
            registry.register("echo", raw: { payload, _ in payload })
            registry.register("slow", raw: { _, _ in
                started.withLock { $0 = true }
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch {
                    stopped.withLock { $0 = true }
                    throw error
                }
                return []
            })
            try harness.startWorker(registry) { $0.concurrency = 2 }
            let run = try await harness.client.submit(try Self.tree(leaf: "slow", leafPayload: JSONNull()), run: "t")
            let clock = ContinuousClock()
            let begin = clock.now
            while !started.withLock({ $0 }) {
                guard clock.now - begin < .seconds(20) else { Issue.record("the leaf never started"); return }
                try await Task.sleep(for: .milliseconds(20))
            }
            try await run.cancel()
            #expect(try await run.wait(timeout: .seconds(10)).state == .cancelled)
            #expect(try await harness.client.wait(forRun: "t.sub", timeout: .seconds(10)).state == .cancelled)
            #expect(try await harness.client.wait(forRun: "t.sub.inner", timeout: .seconds(10)).state == .cancelled)
            #expect(stopped.withLock { $0 }, "the running handler three levels down was stopped")
            #expect(try await harness.client.status("t/d").state == .cancelled)
        }
    }
}
