import JobqRedis
import Testing

@testable import JobqCore

@Suite("DAG semantics", .enabled(if: redisAvailable))
struct DAGSemanticsTests {
    @Test func diamondRunsInDependencyOrder() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a"), spec("b", after: ["a"]), spec("c", after: ["a"]), spec("d", after: ["b", "c"])])
            let order = try await engine.drain(batch: 10)
            #expect(order.first == "a" && order.last == "d")
            #expect(Set(order) == ["a", "b", "c", "d"] && order.count == 4)
        }
    }

    @Test func fanOutOf5000() async throws {
        try await withEngine { engine in
            let children = (0..<5000).map { spec("child\($0)", after: ["root"]) }
            _ = try await engine.coordinator.tasks.submit([spec("root")] + children)
            #expect(try await engine.readyList() == ["root"])
            let order = try await engine.drain(batch: 500)
            #expect(order.first == "root")
            #expect(order.count == 5001 && Set(order).count == 5001)
        }
    }

    @Test func fanInOf2000StartsTheChildOnceAfterTheLastParent() async throws {
        try await withEngine { engine in
            let parents = (0..<2000).map { spec("p\($0)") }
            _ = try await engine.coordinator.tasks.submit(parents + [spec("child", after: parents.compactMap(\.id))])
            var childClaims = 0
            var parentsDone = 0
            while true {
                let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 300, lease: .seconds(30), worker: "w")
                if claimed.isEmpty { break }
                for task in claimed where task.id == "child" {
                    childClaims += 1
                    #expect(parentsDone == 2000)
                    #expect(task.prerequisites.count == 2000)
                }
                _ = try await engine.coordinator.leases.complete(claimed.map { Completion(lease: $0.lease, result: []) })
                parentsDone += claimed.filter { $0.id != "child" }.count
            }
            #expect(childClaims == 1)
            #expect(try await engine.state("child") == .done)
        }
    }

    @Test func chainOf50() async throws {
        try await withEngine { engine in
            let ids = (0..<50).map { "c\($0)" }
            _ = try await engine.coordinator.tasks.submit(ids.enumerated().map { index, id in spec(id, after: index == 0 ? [] : [ids[index - 1]]) })
            #expect(try await engine.drain(batch: 10) == ids)
        }
    }

    @Test func failureCascadesThroughAChain() async throws {
        try await withEngine { engine in
            let ids = (0..<50).map { "c\($0)" }
            _ = try await engine.coordinator.tasks.submit(ids.enumerated().map { index, id in spec(id, after: index == 0 ? [] : [ids[index - 1]], maxAttempts: 1) })
            let first = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(5), worker: "w")
            _ = try await engine.coordinator.leases.fail([Failure(lease: first[0].lease, mode: .retry(delay: .zero), reason: "error", message: "x")])
            let states = try await engine.coordinator.tasks.taskStates(ids)
            #expect(states.first == .failed)
            #expect(states.dropFirst().allSatisfy { $0 == .cancelled })
            #expect(try await engine.coordinator.leases.claim(queues: ["default"], count: 100, lease: .seconds(5), worker: "w").isEmpty)
            #expect(try await engine.coordinator.tasks.task("c49")?.attempts == 0)
        }
    }

    @Test func failureCascadesThroughADiamondAndAlwaysEdgesStillRun() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([
                spec("a"), spec("b", after: ["a"], maxAttempts: 1), spec("c", after: ["a"]), spec("d", after: ["b", "c"]),
                spec("report", after: ["d"], policy: .always),
            ])
            var claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(5), worker: "w")
            _ = try await engine.coordinator.leases.complete(claimed.map { Completion(lease: $0.lease, result: []) })
            claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(5), worker: "w")
            #expect(Set(claimed.map(\.id)) == ["b", "c"])
            let b = try #require(claimed.first { $0.id == "b" })
            _ = try await engine.coordinator.leases.fail([Failure(lease: b.lease, mode: .final, reason: "error", message: "x")])
            #expect(try await engine.state("d") == .cancelled)
            #expect(try await engine.state("report") == .pending)
            let c = try #require(claimed.first { $0.id == "c" })
            _ = try await engine.coordinator.leases.complete([Completion(lease: c.lease, result: [])])
            let last = try await engine.coordinator.leases.claim(queues: ["default"], count: 5, lease: .seconds(5), worker: "w")
            #expect(last.map(\.id) == ["report"])
            #expect(last[0].prerequisites.map(\.state) == [.cancelled])
        }
    }

    @Test func dependentsAcrossSubmissionsAndQueues() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("a", queue: "cpu")])
            _ = try await engine.coordinator.tasks.submit([spec("b", after: ["a"], queue: "io")])
            #expect(try await engine.drain(queue: "io").isEmpty)
            #expect(try await engine.drain(queue: "cpu") == ["a"])
            #expect(try await engine.drain(queue: "io") == ["b"])
        }
    }
}
