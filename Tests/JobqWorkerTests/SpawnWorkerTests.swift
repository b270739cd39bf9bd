import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import JobqWorker
import Testing

/// Spawned children through real workers: a handler spawns, waits without holding its slot, and
/// is invoked again with its children's results; a retried parent attaches instead of
/// duplicating (counted from the child handlers' own journal); cancelling a parent reaches every
/// running child; a shell-script command handler does the same with stderr lines.
@Suite("Worker: spawning children", .enabled(if: redisAvailable))
struct SpawnWorkerTests {
    static func fanOut(_ count: Int, handler: String = "square") throws -> Workflow {
        var children = Workflow("squares")
        for index in 0..<count { try children.add("n\(index)", handler: handler, payload: index) }
        return children
    }

    @Test func aParentSpawnsWaitsAndIsInvokedAgainWithOrderedAndKeyedResults() async throws {
        try await withHarness { harness in
            let parentRuns = Box(0)
            let childRuns = Box<[Int]>([])
            var registry = HandlerRegistry()
            registry.register("square") { (n: Int, _: HandlerContext) async throws -> Int in
                childRuns.update { $0.append(n) }
                return n * n
            }
            registry.register("parent") { (_: JSONNull, context: HandlerContext) async throws -> [Int] in
                parentRuns.update { $0 += 1 }
                let saved = try context.checkpoint(as: String.self)
                if saved == nil { try await context.checkpoint("before the spawn") }
                let run = try await context.spawn(try Self.fanOut(5))
                #expect(run.id == "p.children")
                #expect(run.created == (saved == nil))
                try await context.waitForChildren()
                // the re-invocation gets the checkpoint the first one saved
                #expect(saved == "before the spawn")
                let byKey = try await context.childResultsByKey()
                #expect(byKey["n3"]?.state == .done)
                return try await context.childResults(pageSize: 2).map { try PayloadCoding.decode(Int.self, from: $0.result ?? []) }
            }
            try harness.startWorker(registry) { $0.concurrency = 1 }
            try await harness.client.submit(task("p", handler: "parent", maxAttempts: 1))
            let info = try await harness.finished("p")
            #expect(info.state == .done, "\(info.error ?? "")")
            #expect(try await harness.client.result(of: "p", as: [Int].self) == [0, 1, 4, 9, 16])
            #expect(parentRuns.current == 2)
            #expect(childRuns.current.sorted() == [0, 1, 2, 3, 4])
            #expect(info.attempts == 1)
            let outcomes = try await harness.coordinator.tasks.attempts(of: "p").attempts.map(\.outcome)
            #expect(outcomes == [.waiting, .done])
        }
    }

    @Test func aParentThatReturnsEndsWithItsJoinTask() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("square") { (n: Int, _: HandlerContext) async throws -> Int in n * n }
            registry.register("sum") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                context.prerequisites.compactMap { $0.result.isEmpty ? nil : try? PayloadCoding.decode(Int.self, from: $0.result) }.reduce(0, +)
            }
            registry.register("parent") { (_: JSONNull, context: HandlerContext) async throws -> String in
                var children = Workflow("squares")
                var refs: [Workflow.TaskRef] = []
                for index in 0..<3 { refs.append(try children.add("n\(index)", handler: "square", payload: index)) }
                try children.add("join", handler: "sum", requires: refs)
                try await context.spawn(children, output: "join")
                return "ignored"
            }
            try harness.startWorker(registry)
            try await harness.client.submit(task("p", handler: "parent", maxAttempts: 1))
            let info = try await harness.finished("p")
            #expect(info.state == .done, "\(info.error ?? "")")
            #expect(try await harness.client.result(of: "p", as: Int.self) == 5)
        }
    }

    /// The parent dies between its spawn and its wait (here: its first attempt fails right after
    /// spawning); the retry spawns the same key again and attaches: every child ran once.
    @Test func aRetriedParentAttachesToItsChildrenInsteadOfDuplicatingThem() async throws {
        try await withHarness { harness in
            let childRuns = Box<[Int]>([])
            var registry = HandlerRegistry()
            registry.register("square") { (n: Int, _: HandlerContext) async throws -> Int in
                childRuns.update { $0.append(n) }
                try await Task.sleep(for: .milliseconds(50))
                return n * n
            }
            registry.register("parent") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                let run = try await context.spawn(try Self.fanOut(20))
                if context.attempt == 1 { throw HandlerError.retry("the worker died after spawning") }
                #expect(!run.created)
                try await context.waitForChildren()
                return try await context.childResults().count
            }
            try harness.startWorker(registry) { $0.concurrency = 4 }
            try await harness.client.submit(task("p", handler: "parent", maxAttempts: 3))
            let info = try await harness.finished("p")
            #expect(info.state == .done, "\(info.error ?? "")")
            #expect(try await harness.client.result(of: "p", as: Int.self) == 20)
            #expect(childRuns.current.count == 20 && Set(childRuns.current).count == 20, "\(childRuns.current.sorted())")
        }
    }

    @Test func wakeParentReinvokesItAfterAFailedChild() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("flaky") { (n: Int, _: HandlerContext) async throws -> Int in
                if n == 1 { throw HandlerError.permanent("no") }
                return n
            }
            registry.register("parent") { (_: JSONNull, context: HandlerContext) async throws -> [String] in
                try await context.spawn(try Self.fanOut(3, handler: "flaky"), onChildFailure: .wakeParent)
                try await context.waitForChildren()
                return try await context.childResults().map { "\($0.key):\($0.state?.rawValue ?? "-")" }
            }
            try harness.startWorker(registry)
            try await harness.client.submit(task("p", handler: "parent", maxAttempts: 1))
            let info = try await harness.finished("p")
            #expect(info.state == .done, "\(info.error ?? "")")
            #expect(try await harness.client.result(of: "p", as: [String].self) == ["n0:DONE", "n1:FAILED", "n2:DONE"])
        }
    }

    /// A cycle, a prerequisite outside the spawn, a spawn over the width cap, a wait with nothing
    /// spawned: each refused with its stable code, nothing written.
    @Test func badSpawnsAreRefusedWithStableCodes() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("parent") { (_: JSONNull, context: HandlerContext) async throws -> [String] in
                var codes: [String] = []
                func code(_ body: () async throws -> Void) async {
                    do { try await body(); codes.append("none") } catch let error as JobqError { codes.append(error.code.rawValue) } catch { codes.append("other") }
                }
                await code {
                    var cyclic = Workflow("cyclic")
                    let a = try cyclic.add("a", handler: "x")
                    let b = try cyclic.add("b", handler: "x", requires: [a])
                    try cyclic.require(a, after: b)
                    try await context.spawn(cyclic)
                }
                await code {
                    var stray = Workflow("stray")
                    try stray.add(TaskSpec(id: "a", handler: "x", prerequisites: [Prerequisite("elsewhere")]))
                    try await context.spawn(stray)
                }
                await code { try await context.spawn(try Self.fanOut(Limits.spawnMaxTasks + 1)) }
                await code { try await context.waitForChildren() }
                return codes
            }
            try harness.startWorker(registry)
            try await harness.client.submit(task("p", handler: "parent", maxAttempts: 1))
            #expect(try await harness.finished("p").state == .done)
            #expect(try await harness.client.result(of: "p", as: [String].self) == ["cycle", "unknown_dependency", "too_many_tasks", "not_found"])
            #expect(try await harness.coordinator.tasks.run("p.children") == nil)
        }
    }

    @Test func aBatchHandlerCannotSpawn() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register(batch: "b", max: 2, wait: .milliseconds(10)) { (items: [BatchItem<Int>]) async throws -> [String: BatchOutcome<String>] in
                var outcomes: [String: BatchOutcome<String>] = [:]
                for item in items {
                    do {
                        try await item.context.spawn(try Self.fanOut(1))
                        outcomes[item.id] = .done("spawned")
                    } catch let error as JobqError {
                        outcomes[item.id] = .done(error.code.rawValue)
                    }
                }
                return outcomes
            }
            try harness.startWorker(registry)
            try await harness.client.submit(task("b1", handler: "b", payload: "1"))
            #expect(try await harness.finished("b1").state == .done)
            #expect(try await harness.client.result(of: "b1", as: String.self) == "invalid_state")
            #expect(try await harness.coordinator.tasks.run("b1.children") == nil)
        }
    }

    /// 1,000 children, the running ones blocked until told to stop: cancelling the waiting
    /// parent cancels the run, and every child that started saw its cancellation (their journal).
    @Test func cancellingAParentWithAThousandChildrenReachesEveryRunningChild() async throws {
        try await withHarness { harness in
            let started = Box<Set<Int>>([])
            let stopped = Box<Set<Int>>([])
            var registry = HandlerRegistry()
            registry.register("block") { (n: Int, _: HandlerContext) async throws -> Int in
                started.update { _ = $0.insert(n) }
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    stopped.update { _ = $0.insert(n) }
                    throw error
                }
                return n
            }
            registry.register("parent") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                try await context.spawn(try Self.fanOut(1000, handler: "block"))
                try await context.waitForChildren()
                return 0
            }
            try harness.startWorker(registry) { $0.concurrency = 8 }
            try harness.startWorker(registry) { $0.concurrency = 8 }
            try await harness.client.submit(task("p", handler: "parent", maxAttempts: 1))
            for _ in 0..<500 where started.current.count < 16 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(started.current.count == 16)
            _ = try await harness.client.cancel("p")
            #expect(try await harness.finished("p").state == .cancelled)
            for _ in 0..<500 where try await harness.coordinator.tasks.run("p.children")?.state.isTerminal != true {
                try await Task.sleep(for: .milliseconds(20))
            }
            let run = try await harness.coordinator.tasks.run("p.children")
            #expect(run?.state == .cancelled)
            #expect(run?.counts[.cancelled] == 1000, "\(String(describing: run?.counts))")
            for _ in 0..<250 where stopped.current != started.current { try await Task.sleep(for: .milliseconds(20)) }
            #expect(stopped.current == started.current)
            #expect(started.current.count <= 32)
        }
    }

    /// A shell script spawns with `JOBQ_SPAWN`, waits with `JOBQ_WAIT_CHILDREN`, and reads the
    /// results from `JOBQ_CHILDREN_FILE` when it runs again; a bad spawn line fails its attempt.
    @Test func aCommandHandlerSpawnsAndWaitsWithStderrLines() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("echo", command: shell(#"cat"#))
            registry.register("sh", command: shell(#"""
                if [ -n "$JOBQ_CHILDREN_FILE" ]; then
                  grep -q '"state":"DONE"' "$JOBQ_CHILDREN_FILE" || { cat "$JOBQ_CHILDREN_FILE" >&2; exit 3; }
                  grep -o '"result":[0-9]*' "$JOBQ_CHILDREN_FILE" | awk -F: '{ s += $2 } END { print s }'
                  exit 0
                fi
                echo 'JOBQ_SPAWN {"tasks": [{"id": "a", "handler": "echo", "payload": 2}, {"id": "b", "handler": "echo", "payload": 3, "after": ["a"]}]}' >&2
                echo "JOBQ_WAIT_CHILDREN" >&2
                """#))
            registry.register("bad", command: shell(#"echo 'JOBQ_SPAWN {"tasks": [{"id": "a", "handler": "echo", "after": ["a"]}]}' >&2; echo 1"#))
            try harness.startWorker(registry)
            try await harness.client.submit(task("c", handler: "sh", maxAttempts: 1))
            try await harness.client.submit(task("x", handler: "bad", maxAttempts: 1))
            let bad = try await harness.finished("x")
            #expect(bad.state == .failed && bad.reason == "bad_spawn", "\(bad.reason ?? "") \(bad.error ?? "")")
            #expect(try await harness.coordinator.tasks.run("x.children") == nil)
            let info = try await harness.finished("c")
            #expect(info.state == .done, "\(info.error ?? "")")
            #expect(try await harness.client.result(of: "c", as: Int.self) == 5)
            let outcomes = try await harness.coordinator.tasks.attempts(of: "c").attempts.map(\.outcome)
            #expect(outcomes == [.waiting, .done])
        }
    }
}
