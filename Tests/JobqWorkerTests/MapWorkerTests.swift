import Foundation
import Jobq
import JobqCore
import JobqWorker
import Logging
import Testing

/// Maps on a real worker: the built-in `jobq.map` expands a list (literal or another task's
/// result) into a child run, and dependents get the children's results as an ordered list; an
/// empty list skips, something else than a list fails, a list over the width cap fails.
@Suite("maps on a worker", .enabled(if: redisAvailable))
struct MapWorkerTests {
    struct Doubled: Codable, Sendable, Equatable {
        var value: Int
        var index: Int
    }

    static func registry() -> HandlerRegistry {
        var registry = HandlerRegistry()
        registry.register("echo", raw: { payload, _ in payload })
        registry.register("double", raw: { payload, _ in
            let input = try JSONDecoder().decode([String: Int].self, from: Data(payload))
            return Array(try JSONEncoder().encode(Doubled(value: 2 * (input["n"] ?? 0), index: input["i"] ?? -1)))
        })
        // reads a mapped prerequisite through the context: the children's results, not the marker
        registry.register("names", raw: { _, context in
            let names = try context.result(of: "m", as: [[String: String]].self).compactMap { $0["name"] }
            return Array(try JSONEncoder().encode(names))
        })
        registry.register("fail.odd", raw: { payload, _ in
            let n = try JSONDecoder().decode(Int.self, from: Data(payload))
            if n % 2 == 1 { throw HandlerError.permanent("odd") }
            return payload
        })
        return registry
    }

    static let template = TaskSpec(handler: "double", payload: Array(#"{"i":{"$index":true},"n":{"$item":true}}"#.utf8))

    @Test func aMapOverALiteralListGivesItsDependentTheResultsInOrder() async throws {
        try await withHarness { harness in
            try harness.startWorker(Self.registry()) { $0.concurrency = 3 }
            var flow = Workflow("maps")
            let mapped = try flow.add("m", map: try .list([5, 6, 7, 8]), task: Self.template, window: 2)
            try flow.add("after", handler: "echo", payload: ["all": ["$retval": "m"]], requires: [mapped])
            let run = try await harness.client.submit(flow, run: "t")
            let outcome = try await run.wait(timeout: .seconds(30))
            #expect(outcome.state == .done, "\(outcome)")
            let expected = [Doubled(value: 10, index: 0), Doubled(value: 12, index: 1), Doubled(value: 14, index: 2), Doubled(value: 16, index: 3)]
            #expect(try await harness.client.result(of: "t/m", as: [Doubled].self) == expected)
            #expect(try await harness.client.result(of: "t/after", as: [String: [Doubled]].self) == ["all": expected])
            // the child run: one task per element, keyed by position, with the map's window
            let child = try await harness.client.run("t.m")
            #expect(child.state == .done && child.total == 4 && child.parent == "t/m")
            #expect(child.options["window"] == "2", "\(child.options)")
            #expect(try await harness.client.result(of: "t.m/3", as: Doubled.self) == Doubled(value: 16, index: 3))
            // the expansion is an event with the count
            let events = try await harness.client.events(from: "-", to: "+", count: 10_000).records
            #expect(events.contains { $0.task == "t/m" && $0.to == .pending && $0.reason == "mapped:4" })
        }
    }

    @Test func aMapOverAnotherTasksResult() async throws {
        try await withHarness { harness in
            try harness.startWorker(Self.registry()) { $0.concurrency = 2 }
            var flow = Workflow("maps")
            let list = try flow.add("list", handler: "echo", payload: ["a", "b", "c"])
            let mapped = try flow.add("m", map: .resultOf(list), task: TaskSpec(handler: "echo", payload: Array(#"{"name":{"$item":true}}"#.utf8)))
            try flow.add("after", handler: "echo", payload: ["$retval": "m"], requires: [mapped])
            try flow.add("names", handler: "names", requires: [mapped])
            let run = try await harness.client.submit(flow, run: "t")
            #expect(try await run.wait(timeout: .seconds(30)).state == .done)
            #expect(try await harness.client.result(of: "t/after", as: [[String: String]].self) == [["name": "a"], ["name": "b"], ["name": "c"]])
            #expect(try await harness.client.result(of: "t/names", as: [String].self) == ["a", "b", "c"])
        }
    }

    @Test func anEmptyListSkipsTheMapAndItsDependentsRun() async throws {
        try await withHarness { harness in
            try harness.startWorker(Self.registry())
            var flow = Workflow("maps")
            let list = try flow.add("list", handler: "echo", payload: [Int]())
            let mapped = try flow.add("m", map: .resultOf(list), task: Self.template)
            try flow.add("after", handler: "echo", payload: ["$retval": "m"], requires: [mapped])
            let run = try await harness.client.submit(flow, run: "t")
            #expect(try await run.wait(timeout: .seconds(30)).state == .done)
            let map = try await harness.client.status("t/m")
            #expect(map.state == .skipped && map.childRun == nil)
            #expect(try await harness.client.status("t/after").state == .done)
            #expect(try await harness.client.result(of: "t/after", as: [Int].self) == [])
            #expect(try await harness.client.engine.tasks.run("t.m") == nil, "no child run for an empty list")
        }
    }

    @Test func somethingElseThanAListFailsTheMapForGood() async throws {
        try await withHarness { harness in
            try harness.startWorker(Self.registry())
            var flow = Workflow("maps")
            let list = try flow.add("list", handler: "echo", payload: ["not": "a list"])
            let mapped = try flow.add("m", map: .resultOf(list), task: Self.template)
            try flow.add("after", handler: "echo", requires: [mapped])
            let run = try await harness.client.submit(flow, run: "t")
            #expect(try await run.wait(timeout: .seconds(30)).state == .failed)
            let map = try await harness.client.status("t/m")
            #expect(map.state == .failed && map.reason == "map_not_list" && map.attempts == 1, "\(map)")
            #expect(map.error?.contains("an object") == true, "\(map.error ?? "")")
            #expect(try await harness.client.status("t/after").state == .cancelled)
        }
    }

    @Test func aListOverTheWidthCapFailsTheMapForGood() async throws {
        try await withHarness { harness in
            try harness.startWorker(Self.registry())
            var flow = Workflow("maps")
            try flow.add("m", map: try .list(Array(0..<5)), task: Self.template, width: 4)
            let run = try await harness.client.submit(flow, run: "t")
            #expect(try await run.wait(timeout: .seconds(30)).state == .failed)
            let map = try await harness.client.status("t/m")
            #expect(map.state == .failed && map.reason == "map_too_wide", "\(map)")
            #expect(map.error?.contains("5 elements") == true && map.error?.contains("4") == true, "\(map.error ?? "")")
            #expect(try await harness.client.engine.tasks.run("t.m") == nil)
        }
    }

    /// A list within the width cap but longer than the worker's installation takes in one
    /// submission (`Limits.maxTasksPerSubmission`): map_too_wide, and no child run.
    @Test func aListOverTheSubmissionLimitFailsTheMapForGood() async throws {
        try await withHarness { harness in
            var limits = Limits()
            limits.maxTasksPerSubmission = 3
            let coordinator = try Coordinator(redis: harness.server.makeClient(), namespace: harness.namespace, limits: limits)
            var logger = Logger(label: "test.worker")
            logger.logLevel = .critical
            let worker = try Worker(store: coordinator, registry: Self.registry(), configuration: Harness.testConfiguration(), logger: logger)
            let running = Task { try await worker.run() }
            var flow = Workflow("maps")
            try flow.add("m", map: try .list(Array(0..<5)), task: Self.template, width: 10)
            let run = try await harness.client.submit(flow, run: "t")
            let outcome = try await run.wait(timeout: .seconds(30))
            worker.stopNow()
            _ = try? await running.value
            await coordinator.redis.close()
            #expect(outcome.state == .failed)
            let map = try await harness.client.status("t/m")
            #expect(map.state == .failed && map.reason == "map_too_wide" && map.attempts == 1, "\(map)")
            #expect(map.error?.contains("at most 3") == true, "\(map.error ?? "")")
            #expect(try await harness.client.engine.tasks.run("t.m") == nil)
        }
    }

    @Test func aFailedChildFailsTheMapAfterTheOthersEnded() async throws {
        try await withHarness { harness in
            try harness.startWorker(Self.registry()) { $0.concurrency = 2 }
            var flow = Workflow("maps")
            try flow.add("m", map: try .list([0, 1, 2, 4]), task: TaskSpec(handler: "fail.odd", payload: MapRequest.item, maxAttempts: 1))
            let run = try await harness.client.submit(flow, run: "t")
            #expect(try await run.wait(timeout: .seconds(30)).state == .failed)
            let map = try await harness.client.status("t/m")
            #expect(map.state == .failed && map.reason == "child_failed" && map.cause == "t.m", "\(map)")
            // children are independent: the others ran to the end
            let child = try await harness.client.run("t.m")
            #expect(child.counts == [.done: 3, .failed: 1], "\(child.counts)")
        }
    }
}
