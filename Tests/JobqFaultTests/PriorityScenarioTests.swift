import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import Testing

/// Priorities and weighted queues under load, with real worker processes and the test handlers'
/// own journal as the record. Prints `FAULT priorities:` / `FAULT weighted:` lines.
@Suite("Fault tests: priorities and weighted queues under load", .enabled(if: redisAvailable), .serialized)
struct PriorityScenarioTests {
    /// The number of "inversions" each start suffers: tasks that should have been claimed before
    /// it (`before(a, b)`) yet started after it. A claim takes a task only once every task before
    /// it was claimed, and a claimed task holds a slot until it starts, so each start can see at
    /// most (slots - 1) such tasks, however the workers are scheduled; without the order being
    /// kept, inversions run into the hundreds.
    static func worstInversions(_ executions: [RunScenarioTests.Execution], before: (String, String) -> Bool) -> Int {
        var worst = 0
        for later in executions {
            var count = 0
            for earlier in executions where earlier.start > later.start && before(earlier.task, later.task) { count += 1 }
            worst = max(worst, count)
        }
        return worst
    }

    /// 3 workers × 4 slots; a backlog of 3,000 short sleeps submitted before any worker starts,
    /// with priorities -5, 0, 3 and 9 interleaved at random (seeded): from the journal's start
    /// times, no task started with more than 11 tasks of a higher priority (or of its own,
    /// submitted earlier) still to start — strict priority, FIFO within one — and every task
    /// ended DONE exactly once.
    @Test func higherPrioritiesStartFirstAndFIFOWithinOneAcrossWorkers() async throws {
        try await withFleet { fleet in
            var generator = SeededGenerator(state: 12)
            let levels = [-5, 0, 0, 3, 9]
            var rank: [String: (priority: Int, index: Int)] = [:]
            var specs: [TaskSpec] = []
            for index in 0..<3_000 {
                var task = spec("p\(index)", payload: #"{"seconds": 0.002}"#, maxAttempts: 1)
                task.priority = levels[Int(generator.next() % UInt64(levels.count))]
                rank[task.id ?? ""] = (task.priority, index)
                specs.append(task)
            }
            for start in stride(from: 0, to: specs.count, by: 1000) {
                _ = try await fleet.coordinator.tasks.submit(Array(specs[start..<(start + 1000)]))
            }
            let submitted = specs.map { SubmittedTask($0, id: $0.id ?? "") }
            let (executions, elapsed) = try await RunScenarioTests.drainOnThreeWorkers(fleet, total: submitted.count, timeout: .seconds(120))
            #expect(executions.count == specs.count)
            let worst = Self.worstInversions(executions) { earlier, later in
                guard let a = rank[earlier], let b = rank[later] else { return false }
                return a.priority > b.priority || (a.priority == b.priority && a.index < b.index)
            }
            #expect(worst <= 11, "a task started with \(worst) tasks ahead of it in priority order still to start; 12 slots allow 11")
            // the same record read without priorities: proves the check can fail
            let ignoringPriority = Self.worstInversions(executions) { earlier, later in
                (rank[earlier]?.index ?? 0) < (rank[later]?.index ?? 0)
            }
            #expect(ignoringPriority > 100, "submission order alone was nearly kept (\(ignoringPriority)): the priorities did nothing")
            print("FAULT priorities: tasks=\(specs.count) levels=\(Set(levels).sorted()) workers=3x4 worstInversions=\(worst) submissionOrderInversions=\(ignoringPriority) elapsed=\(elapsed)")
            report("priorities", try await fleet.check(submitted, faults: false))
        }
    }

    /// 3 workers × 4 slots; 4,000 short sleeps at priority 5 and 30 at priority 9 sharing the
    /// concurrency key `vip` with limit 2, all queued before the workers start: the vip tasks
    /// beyond the limit are parked, and each one woken goes back to *its* priority's lane (9), so
    /// every vip task starts while the priority-5 backlog still has work (from the journal: the
    /// last vip start precedes the last priority-5 start). Woken into the default lane instead,
    /// they would wait behind the whole backlog; and no more than 2 vip tasks ever ran at once.
    @Test func tasksWokenFromALimitKeepTheirPriorityUnderLoad() async throws {
        try await withFleet { fleet in
            var specs: [TaskSpec] = []
            for index in 0..<30 {
                var task = spec("vip\(index)", payload: #"{"seconds": 0.01, "tenant": "vip"}"#, maxAttempts: 1)
                task.priority = 9
                task.concurrency = ConcurrencyLimit(key: "{payload.tenant}", limit: 2)
                specs.append(task)
            }
            for index in 0..<4_000 {
                var task = spec("bulk\(index)", payload: #"{"seconds": 0.002}"#, maxAttempts: 1)
                task.priority = 5
                specs.append(task)
            }
            for start in stride(from: 0, to: specs.count, by: 1000) {
                _ = try await fleet.coordinator.tasks.submit(Array(specs[start..<min(start + 1000, specs.count)]))
            }
            let submitted = specs.map { SubmittedTask($0, id: $0.id ?? "") }
            let (executions, elapsed) = try await RunScenarioTests.drainOnThreeWorkers(fleet, total: submitted.count, timeout: .seconds(120))
            let lastVIP = executions.filter { $0.task.hasPrefix("vip") }.map(\.start).max() ?? .max
            let lastBulk = executions.filter { $0.task.hasPrefix("bulk") }.map(\.start).max() ?? 0
            let bulkAfter = executions.filter { $0.task.hasPrefix("bulk") && $0.start > lastVIP }.count
            let peak = RunScenarioTests.peakConcurrency(executions) { $0.hasPrefix("vip") ? "vip" : nil }["vip"] ?? 0
            #expect(peak == 2, "vip ran \(peak) at once; its limit is 2 (and it must reach it)")
            #expect(lastVIP < lastBulk, "a vip task started after the whole priority-5 backlog: woken into the wrong lane")
            print("FAULT priority-wake: vip=30 limit=2 priority=9 bulk=4000 priority=5 workers=3x4 bulkStartedAfterLastVIP=\(bulkAfter) peakVIP=\(peak) elapsed=\(elapsed)")
            report("priority-wake", try await fleet.check(submitted, faults: false))
        }
    }

    /// 3 workers × 4 slots serving `hi=3,lo=1`, 900 short sleeps on each queue before they start:
    /// while both queues still had work (up to the first start of hi's last task), `lo` got a
    /// share near its weight (1/4; accepted 8%–45%), where strict order would give it none.
    @Test func weightedQueuesGiveEachQueueAShareUnderABacklog() async throws {
        try await withFleet { fleet in
            var specs: [TaskSpec] = []
            for index in 0..<900 {
                for queue in ["hi", "lo"] {
                    var task = spec("\(queue)\(index)", payload: #"{"seconds": 0.002}"#, maxAttempts: 1)
                    task.queue = queue
                    specs.append(task)
                }
            }
            for start in stride(from: 0, to: specs.count, by: 900) {
                _ = try await fleet.coordinator.tasks.submit(Array(specs[start..<(start + 900)]))
            }
            let submitted = specs.map { SubmittedTask($0, id: $0.id ?? "") }
            let started = ContinuousClock.now
            for _ in 0..<3 { try fleet.startWorker(concurrency: 4, extra: ["--queues", "hi=3,lo=1"]) }
            #expect(await fleet.awaitDrained(total: submitted.count, timeout: .seconds(120)))
            let elapsed = ContinuousClock.now - started
            let executions = RunScenarioTests.executions(fleet.journal().entries).sorted { $0.start < $1.start }
            let hiDrained = executions.last { $0.task.hasPrefix("hi") }?.start ?? 0
            let whileBoth = executions.filter { $0.start < hiDrained }
            let loShare = Double(whileBoth.filter { $0.task.hasPrefix("lo") }.count) / Double(max(whileBoth.count, 1))
            #expect(whileBoth.count > 900, "hi drained too early to measure (\(whileBoth.count) starts)")
            #expect(loShare > 0.08 && loShare < 0.45, "lo's share while both had work: \(loShare); its weight gives 0.25")
            print("FAULT weighted: tasks=\(specs.count) weights=hi=3,lo=1 workers=3x4 loShareWhileBothHadWork=\(String(format: "%.3f", loShare)) starts=\(whileBoth.count) elapsed=\(elapsed)")
            report("weighted", try await fleet.check(submitted, faults: false))
        }
    }
}
