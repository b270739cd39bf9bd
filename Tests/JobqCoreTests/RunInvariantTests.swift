import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqCore

/// Random operation sequences on several runs at once (a windowed one, a fail-fast one with a
/// critical task, one with `failure` edges, and standalone tasks beside them); after every step
/// the run records must agree with their tasks as read one by one: the counters, the run's state
/// by the one rule (docs/state-machine.md, "Runs"), the window, and fail-fast (nothing of a
/// stopped run is claimed again).
@Suite("runs: invariants under random operations", .enabled(if: redisAvailable))
struct RunInvariantTests {
    static let runs = ["win", "ff", "edges"]

    static func definition(_ run: String, using random: inout SeededGenerator) -> ([TaskSpec], RunOptions) {
        var specs: [TaskSpec] = []
        for index in 0..<8 {
            var prerequisites: [Prerequisite] = []
            for earlier in (0..<index).shuffled(using: &random).prefix(Int.random(in: 0...2, using: &random)) {
                let policy: DependencyPolicy = run == "edges" ? [.success, .always, .failure][Int.random(in: 0..<3, using: &random)] : .success
                prerequisites.append(Prerequisite("k\(earlier)", policy: policy))
            }
            specs.append(TaskSpec(id: "k\(index)", handler: "h", prerequisites: prerequisites, maxAttempts: 2, backoff: .fixed(delay: .zero)))
        }
        switch run {
        case "win": return (specs, RunOptions(id: run, definition: "d", window: 2))
        case "ff": return (specs, RunOptions(id: run, definition: "d", failFast: false, critical: ["k1", "k3"]))
        default: return (specs, RunOptions(id: run, definition: "d"))
        }
    }

    @Test(arguments: Array(1...12) as [UInt64])
    func runRecordsAgreeWithTheirTasks(seed: UInt64) async throws {
        try await withEngine { engine in
            var random = SeededGenerator(state: seed)
            var ids: [String: [String]] = [:]
            for run in Self.runs {
                let (specs, options) = Self.definition(run, using: &random)
                let submitted = try await engine.coordinator.tasks.submit(specs, run: options)
                ids[run] = submitted.tasks.map(\.id)
            }
            _ = try await engine.coordinator.tasks.submit((0..<6).map { TaskSpec(id: "solo\($0)", handler: "h", maxAttempts: 2) })
            var running: [String: TaskLease] = [:]
            var stopped = false // the critical task of `ff` failed for good

            for step in 0..<160 {
                var operation = ""
                switch Int.random(in: 0..<100, using: &random) {
                case 0..<35:
                    let count = Int.random(in: 1...3, using: &random)
                    let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: count, lease: .seconds(10), worker: "w")
                    operation = "claim \(count) -> \(claimed.map(\.id))"
                    for task in claimed { running[task.id] = task.lease }
                    if stopped { #expect(!claimed.contains { RunScope.run(of: $0.id) == "ff" }, "seed \(seed) step \(step): a task of a stopped run was claimed: \(operation)") }
                case 35..<60:
                    guard let (id, lease) = running.randomElement(using: &random) else { continue }
                    operation = "complete \(id)"
                    _ = try await engine.coordinator.leases.complete([Completion(lease: lease, result: Array("1".utf8))])
                    running[id] = nil
                case 60..<75:
                    guard let (id, lease) = running.randomElement(using: &random) else { continue }
                    let final = Bool.random(using: &random)
                    operation = "fail \(id) \(final ? "final" : "retry")"
                    _ = try await engine.coordinator.leases.fail([Failure(lease: lease, mode: final ? .final : .retry(delay: .zero), reason: "error", message: "x")])
                    running[id] = nil
                    if try await engine.state(id) == .failed, id == "ff/k1" || id == "ff/k3" { stopped = true }
                case 75..<83:
                    let all = ids.values.flatMap { $0 } + ["solo0", "solo1"]
                    guard let id = all.randomElement(using: &random) else { continue }
                    operation = "cancel \(id)"
                    _ = try? await engine.coordinator.tasks.cancel(task: id)
                case 83..<88:
                    let run = Self.runs.filter { $0 != "ff" }.randomElement(using: &random) ?? "win"
                    operation = "retry run \(run)"
                    for id in ids[run] ?? [] where try await engine.state(id) == .failed {
                        _ = try? await engine.coordinator.tasks.retry(task: id)
                    }
                case 88..<93:
                    operation = "cancel run edges"
                    _ = try await engine.coordinator.tasks.cancel(workflow: "edges")
                default:
                    operation = "time passes: reap, promote"
                    engine.clock.advance(by: .seconds(11))
                    _ = try await engine.coordinator.maintenance.reap()
                    _ = try await engine.coordinator.maintenance.promote()
                }
                // What a worker does after its calls: carry run stops and cascades on.
                try await engine.coordinator.runner.settleAll()
                try await engine.coordinator.maintenance.continueUnownedWork()
                for (id, _) in running where try await engine.state(id) != .running { running[id] = nil }

                for run in Self.runs {
                    let record = try #require(try await engine.coordinator.tasks.run(run))
                    let tasks = try await engine.coordinator.tasks.tasks(ids[run] ?? []).compactMap { $0 }
                    var counts: [TaskState: Int] = [:]
                    for task in tasks { if let state = task.state { counts[state, default: 0] += 1 } }
                    let context = "seed \(seed) step \(step) after \(operation): run \(run)"
                    #expect(record.counts == counts, "\(context): record \(record.counts), tasks \(counts)")
                    let open = tasks.contains { $0.state?.isTerminal != true }
                    let expected: RunState
                    if open {
                        expected = record.started == nil ? .pending : .running
                    } else if (counts[.failed] ?? 0) + (counts[.cancelled] ?? 0) == 0 {
                        expected = .done
                    } else {
                        expected = record.cancelRequested != nil && record.reason == nil ? .cancelled : .failed
                    }
                    #expect(record.state == expected, "\(context): state \(record.state), the rule says \(expected)")
                    if run == "win" { #expect((counts[.running] ?? 0) <= 2, "\(context): \(counts[.running] ?? 0) running, window 2") }
                    if run == "ff", stopped {
                        #expect(record.reason == "fail_fast" && (record.cause == "ff/k1" || record.cause == "ff/k3"), "\(context): \(String(describing: record.reason))")
                        #expect(!tasks.contains { $0.state == .pending }, "\(context): a stopped run keeps no pending task")
                    }
                }
            }
        }
    }
}
