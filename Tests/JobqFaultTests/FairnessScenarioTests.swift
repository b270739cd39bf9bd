import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import Testing

/// Fair claiming across keys under load (docs/flow-control.md#fairness-across-keys), with real
/// worker processes and the test handlers' own journal as the record: tenant A queues 10,000
/// short sleeps, then tenant B queues 10, all before the workers start; 3 `jobq-worker`
/// processes × 4 slots drain them. Prints `FAULT fairness:` lines.
@Suite("Fault tests: fair claiming across keys", .enabled(if: redisAvailable), .serialized)
struct FairnessScenarioTests {
    static let big = 10_000
    static let small = 10
    /// Where B's last start may fall in the start order, with fairness: A and B alternate task by
    /// task from the first claim, so B's 10 take about 2 × 10 starts, plus up to 11 starts that
    /// claims of the other slots made before it but started later (12 slots), plus a margin for
    /// claims of several tasks at once. A sensible bound far below "A's backlog mostly done".
    static let fairBound = 2 * small + 12 + 32

    /// The most tasks submitted before one (a smaller index) that started after it, over the
    /// start order `indices` of one tenant (PriorityScenarioTests.worstInversions, in
    /// O(n log n) with a Fenwick tree: 10,000 starts).
    static func worstInversions(_ indices: [Int]) -> Int {
        var tree = Array(repeating: 0, count: (indices.max() ?? 0) + 2)
        var worst = 0
        for value in indices.reversed() {
            var count = 0, at = value // starts after this one with a smaller index
            while at > 0 { count += tree[at]; at -= at & -at }
            worst = max(worst, count)
            at = value + 1
            while at < tree.count { tree[at] += 1; at += at & -at }
        }
        return worst
    }

    /// Submits A's backlog then B's tasks (with `fairKey` or without), drains them on 3 workers ×
    /// 4 slots, and answers the start order (task ids, earliest first) and the elapsed time.
    static func drain(_ fleet: Fleet, fairKey: String?) async throws -> (order: [String], submitted: [SubmittedTask], elapsed: Duration) {
        func task(_ id: String, tenant: String) -> TaskSpec {
            var task = spec(id, payload: #"{"seconds": 0, "tenant": "\#(tenant)"}"#, maxAttempts: 1)
            task.fairKey = fairKey
            return task
        }
        let a = (0..<big).map { task("a\($0)", tenant: "a") }
        let b = (0..<small).map { task("b\($0)", tenant: "b") }
        for start in stride(from: 0, to: a.count, by: 1000) {
            _ = try await fleet.coordinator.tasks.submit(Array(a[start..<(start + 1000)]))
        }
        _ = try await fleet.coordinator.tasks.submit(b)
        let specs = a + b
        let submitted = specs.map { SubmittedTask($0, id: $0.id ?? "") }
        let (executions, elapsed) = try await RunScenarioTests.drainOnThreeWorkers(fleet, total: submitted.count, timeout: .seconds(240))
        #expect(executions.count == specs.count)
        let order = executions.sorted { ($0.start, $0.task) < ($1.start, $1.task) }.map(\.task)
        return (order, submitted, elapsed)
    }

    /// With a fair key, every B task starts within the first `fairBound` starts (A's backlog is
    /// mostly still queued), each tenant's own tasks start in submission order up to the 11
    /// starts the other slots allow, and every task ran exactly once.
    @Test func aSmallTenantIsNotStarvedByABigOneWithAFairKey() async throws {
        try await withFleet { fleet in
            let (order, submitted, elapsed) = try await Self.drain(fleet, fairKey: "tenant-{payload.tenant}")
            let lastB = order.lastIndex { $0.hasPrefix("b") } ?? .max
            #expect(lastB < Self.fairBound, "B's last task was start \(lastB + 1) of \(order.count); fair claiming bounds it by \(Self.fairBound)")
            let worst = ["a", "b"].map { tenant in
                Self.worstInversions(order.filter { $0.hasPrefix(tenant) }.map { Int($0.dropFirst()) ?? 0 })
            }.max() ?? 0
            #expect(worst <= 11, "a task started with \(worst) tasks of its tenant submitted before it still to start")
            print("FAULT fairness: fair=on a=\(Self.big) b=\(Self.small) workers=3x4 lastBStart=\(lastB + 1) bound=\(Self.fairBound) worstInversionsWithinTenant=\(worst) elapsed=\(elapsed)")
            report("fairness-on", try await fleet.check(submitted, faults: false))
        }
    }

    /// The same backlog without fair keys: today's order, FIFO across the queue — B's first task
    /// starts only after nearly all of A's (the record that shows the check above can fail).
    @Test func withoutAFairKeyTheSmallTenantWaitsForTheWholeBacklog() async throws {
        try await withFleet { fleet in
            let (order, submitted, elapsed) = try await Self.drain(fleet, fairKey: nil)
            let firstB = order.firstIndex { $0.hasPrefix("b") } ?? 0
            #expect(firstB >= Self.big - 12, "B's first task was start \(firstB + 1): without fair keys it waits for A's \(Self.big)")
            print("FAULT fairness: fair=off a=\(Self.big) b=\(Self.small) workers=3x4 firstBStart=\(firstB + 1) elapsed=\(elapsed)")
            report("fairness-off", try await fleet.check(submitted, faults: false))
        }
    }
}
