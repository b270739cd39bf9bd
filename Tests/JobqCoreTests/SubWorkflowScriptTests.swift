import JobqRedis
import Testing

@testable import JobqCore

/// Sub-workflows through the scripts: a task that started a child run waits for it in no queue
/// and ends with it; cancelling it cancels the child, three levels down.
@Suite("sub-workflows: a task waits for its child run", .enabled(if: redisAvailable))
struct SubWorkflowScriptTests {
    static func task(_ key: String, after: [String] = []) -> TaskSpec {
        TaskSpec(id: key, handler: "h", prerequisites: after.map { Prerequisite($0) }, maxAttempts: 1)
    }

    /// What the worker's built-in `jobq.run` does: claim the sub-workflow task, submit its child
    /// run, complete the task as waiting for it. Returns the child run's id.
    static func start(_ engine: EngineFixture, _ parent: String, child tasks: [TaskSpec], output: String? = nil) async throws -> String {
        let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
        try #require(claimed.map(\.id) == [parent])
        #expect(claimed[0].handler == ChildRunRequest.handlerName)
        let request = try ChildRunRequest.decode(claimed[0].payload)
        #expect(request.tasks.map(\.key) == tasks.compactMap(\.id))
        let id = ChildRunRequest.childRunID(parent: parent)
        let (specs, options) = try request.submission(id: id)
        _ = try await engine.coordinator.tasks.submit(specs, run: options)
        let outcomes = try await engine.coordinator.leases.complete([Completion(lease: claimed[0].lease, result: Array("null".utf8), awaitRun: id)])
        #expect(outcomes == [.done])
        return id
    }

    static func subWorkflow(_ key: String, _ tasks: [TaskSpec], output: String? = nil, after: [String] = []) throws -> TaskSpec {
        TaskSpec(
            id: key, handler: ChildRunRequest.handlerName, payload: try ChildRunRequest(definition: "child", tasks: tasks, output: output).encoded(),
            prerequisites: after.map { Prerequisite($0) }, maxAttempts: 1
        )
    }

    @Test func theTaskEndsWithItsChildRunAndPassesItsOutputOn() async throws {
        try await withEngine { engine in
            let child = [Self.task("a"), Self.task("b", after: ["a"])]
            _ = try await engine.coordinator.tasks.submit([try Self.subWorkflow("sub", child, output: "b"), Self.task("next", after: ["sub"])], run: RunOptions(id: "p", definition: "parent"))
            let childID = try await Self.start(engine, "p/sub", child: child, output: "b")
            #expect(childID == "p.sub")
            // Waiting: PENDING, in no queue, holding no lease; the child knows its parent.
            #expect(try await engine.state("p/sub") == .pending)
            #expect(try await engine.field("p/sub", "child") == "p.sub")
            #expect(try await engine.zsetMembers(engine.keys.leases).isEmpty)
            #expect(try await engine.coordinator.tasks.run("p.sub")?.state == .pending)
            let order = try await engine.drain { claimed in Array("\"\(claimed.id)\"".utf8) }
            // The child's tasks, then the parent's next: the child's end ended the sub task.
            #expect(order == ["p.sub/a", "p.sub/b", "p/next"])
            #expect(try await engine.state("p/sub") == .done)
            #expect(try await engine.coordinator.tasks.task("p/sub")?.result == Array("\"p.sub/b\"".utf8))
            #expect(try await engine.coordinator.tasks.run("p")?.state == .done)
            #expect(try await engine.events(of: "p/sub") == ["->PENDING:", "PENDING>RUNNING:", "RUNNING>PENDING:child_run", "PENDING>DONE:"])
        }
    }

    @Test func aFailedChildRunFailsTheTask() async throws {
        try await withEngine { engine in
            let child = [Self.task("x")]
            _ = try await engine.coordinator.tasks.submit([try Self.subWorkflow("sub", child), Self.task("next", after: ["sub"])], run: RunOptions(id: "p", definition: "parent"))
            _ = try await Self.start(engine, "p/sub", child: child)
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            _ = try await engine.coordinator.leases.fail([Failure(lease: claimed[0].lease, mode: .final, reason: "error", message: "boom")])
            try await engine.coordinator.runner.settleAll()
            #expect(try await engine.state("p/sub") == .failed)
            #expect(try await engine.field("p/sub", "reason") == "child_failed")
            #expect(try await engine.field("p/sub", "cause") == "p.sub")
            #expect(try await engine.state("p/next") == .cancelled)
            #expect(try await engine.coordinator.tasks.run("p")?.state == .failed)
        }
    }

    @Test func aChildThatEndedBeforeItsParentWasRecordedStillEndsIt() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([try Self.subWorkflow("sub", [Self.task("x")])], run: RunOptions(id: "p", definition: "parent"))
            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            let request = try ChildRunRequest.decode(claimed[0].payload)
            let (specs, options) = try request.submission(id: "p.sub")
            _ = try await engine.coordinator.tasks.submit(specs, run: options)
            try await engine.drain() // the child is DONE before the parent's completion arrives
            _ = try await engine.coordinator.leases.complete([Completion(lease: claimed[0].lease, result: Array("null".utf8), awaitRun: "p.sub")])
            #expect(try await engine.state("p/sub") == .done)
            #expect(try await engine.coordinator.tasks.run("p")?.state == .done)
        }
    }

    @Test func cancellingTheTopRunCancelsThreeLevelsDown() async throws {
        try await withEngine { engine in
            // top/sub → top.sub (its task deep) → top.sub.deep (its task leaf, running)
            let leaf = [Self.task("leaf")]
            let middle = [try Self.subWorkflow("deep", leaf)]
            _ = try await engine.coordinator.tasks.submit([try Self.subWorkflow("sub", middle), Self.task("other")], run: RunOptions(id: "top", definition: "top"))
            let level2 = try await Self.start(engine, "top/sub", child: middle)
            // `other` of the top run is queued before the child's task: run it to completion first
            let other = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            #expect(other.map(\.id) == ["top/other"])
            _ = try await engine.coordinator.leases.complete([Completion(lease: other[0].lease, result: Array("null".utf8))])
            let level3 = try await Self.start(engine, "top.sub/deep", child: leaf)
            #expect(level2 == "top.sub" && level3 == "top.sub.deep")
            let running = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            #expect(running.map(\.id) == ["top.sub.deep/leaf"])

            _ = try await engine.coordinator.tasks.cancel(workflow: "top")
            #expect(try await engine.state("top/sub") == .cancelled)
            #expect(try await engine.coordinator.tasks.run("top")?.state == .cancelled)
            #expect(try await engine.state("top.sub/deep") == .cancelled)
            #expect(try await engine.coordinator.tasks.run("top.sub")?.state == .cancelled)
            #expect(try await engine.field("top.sub.deep/leaf", "cancel_requested") != nil, "the running handler three levels down is told")
            _ = try await engine.coordinator.leases.fail([Failure(lease: running[0].lease, mode: .cancelled, reason: "cancelled", message: "stopped")])
            #expect(try await engine.coordinator.tasks.run("top.sub.deep")?.state == .cancelled)
            #expect(try await engine.zsetMembers(engine.keys.continuations).isEmpty)
        }
    }
}
