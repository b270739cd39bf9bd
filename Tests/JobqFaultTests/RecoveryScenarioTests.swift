import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import Synchronization
import Testing

/// Recovery under a backlog and poison isolation (issue 9, parts 1 and 2), with real worker
/// processes and the handlers' own journal as the record. Each prints a `FAULT <name>:` line.
@Suite("Fault tests: recovery under a backlog, poison tasks", .enabled(if: redisAvailable), .serialized)
struct RecoveryScenarioTests {
    /// Submits `count` tasks made by `make` in chunks (one submit call each).
    static func submit(_ fleet: Fleet, count: Int, chunk: Int = 1000, _ make: (Int) -> TaskSpec) async throws {
        for start in stride(from: 0, to: count, by: chunk) {
            _ = try await fleet.coordinator.tasks.submit((start..<min(start + chunk, count)).map(make))
        }
    }

    /// Seconds from `time` (Unix ms) to the first start of each of `tasks` by a process other
    /// than `pid` at or after it; `nil` for a task not restarted.
    static func restarts(of tasks: [String], after time: Int64, awayFrom pid: Int32, in journal: [JournalEntry]) -> [String: Double] {
        var found: [String: Double] = [:]
        for task in tasks {
            let next = journal.filter { $0.task == task && $0.isStart && $0.pid != pid && $0.time >= time }.map(\.time).min()
            if let next { found[task] = Double(next - time) / 1000 }
        }
        return found
    }

    /// A SIGKILLed worker's tasks run again within the recovery bound although 10,000 tasks
    /// were queued after them; a SIGTERMed worker's handed-back tasks are claimed at the next
    /// free slot of a busy worker.
    @Test func aDeadWorkersTasksRunAgainAheadOfTenThousandQueuedTasks() async throws {
        try await withFleet { fleet in
            let victim = try fleet.startWorker(concurrency: 4)
            let victims = (0..<4).map { "victim\($0)" }
            _ = try await fleet.coordinator.tasks.submit(victims.map { spec($0, payload: #"{"seconds": 30}"#, maxAttempts: 1) })
            try await fleet.awaitJournal { entries in Set(entries.filter { $0.isStart && $0.pid == victim.pid }.map(\.task)).count == 4 }
            try await Self.submit(fleet, count: 10_000) { spec("b\($0)", payload: #"{"seconds": 0.4}"#, maxAttempts: 1) }
            let survivor = try fleet.startWorker(concurrency: 8, grace: "1s")
            try await fleet.awaitJournal { $0.filter { $0.isStart && $0.pid == survivor.pid }.count >= 16 }

            let killedAt = unixMilliseconds()
            victim.send(SIGKILL)
            try await fleet.awaitJournal(timeout: .seconds(30)) { entries in
                Set(entries.filter { $0.isStart && $0.pid == survivor.pid && $0.task.hasPrefix("victim") }.map(\.task)).count == 4
            }
            let afterKill = Self.restarts(of: victims, after: killedAt, awayFrom: victim.pid, in: fleet.journal().entries)
            let worstKill = afterKill.values.max() ?? .infinity
            let queued = try await fleet.coordinator.inspector.queues().first { $0.name == "default" }?.ready ?? 0

            // Now the survivor stops gracefully: the victims (30 s) are handed back; a third,
            // busy worker claims them at its next free slots (its tasks take 0.4 s).
            let third = try fleet.startWorker(concurrency: 4)
            try await fleet.awaitJournal { $0.filter { $0.isStart && $0.pid == third.pid }.count >= 8 }
            survivor.send(SIGTERM)
            #expect(await survivor.waitForExit(timeout: .seconds(15)) == 0)
            try await fleet.awaitJournal(timeout: .seconds(30)) { entries in
                Set(entries.filter { $0.isStart && $0.pid == third.pid && $0.task.hasPrefix("victim") }.map(\.task)).count == 4
            }
            let journal = fleet.journal().entries
            var worstHandBack = 0.0
            for task in victims {
                guard let handedBack = journal.last(where: { $0.task == task && $0.pid == survivor.pid && !$0.isStart })?.time else {
                    Issue.record("\(task): no end of its run on the stopping worker")
                    continue
                }
                let restart = Self.restarts(of: [task], after: handedBack, awayFrom: survivor.pid, in: journal)[task] ?? .infinity
                worstHandBack = max(worstHandBack, restart)
            }
            let attempts = journal.filter { $0.task.hasPrefix("victim") && $0.isStart }.map(\.attempt)
            print(String(format: "FAULT recovery-under-backlog: queuedBehind=%d worstRerunAfterKill=%.2fs bound=%.2fs worstRestartAfterHandBack=%.2fs victimAttempts=%@",
                         queued, worstKill, Fleet.recoveryBound, worstHandBack, attempts.map(String.init).joined(separator: ",")))
            #expect(queued > 8_000, "the backlog was not behind the victims (\(queued) queued)")
            #expect(worstKill < Fleet.recoveryBound, "a dead worker's task ran again \(worstKill) s after the kill")
            // One claim round: the next free slot of a worker whose tasks take 0.4 s, with slack
            // for a loaded 2-core machine.
            #expect(worstHandBack < 2.0, "a handed-back task ran again \(worstHandBack) s later")
            #expect(attempts.allSatisfy { $0 == 1 }, "a death beside others or a hand-back charged an attempt: \(attempts)")
        }
    }

    /// 500 good tasks and 5 poison tasks (each kills its worker) on 4 workers × concurrency 2,
    /// restarted as they die: every good task ends DONE although the poison killed workers
    /// under it, every poison task FAILED `poison`, and no task is charged a run it did not start.
    @Test func poisonTasksFailAloneAndHurtNoOneElse() async throws {
        try await withFleet { fleet in
            let lease = "2s"
            let total = 505
            var specs: [TaskSpec] = []
            var poison: Set<String> = []
            for index in 0..<500 {
                if index % 100 == 50 {
                    let id = "poison\(index / 100)"
                    poison.insert(id)
                    specs.append(spec(id, "jobq.crash", payload: "{}", maxAttempts: 2))
                }
                // One attempt each: a single charged death fails a good task.
                specs.append(spec("good\(index)", payload: "{\"seconds\": \(Double(20 + index % 5 * 20) / 1000)}", maxAttempts: 1))
            }
            _ = try await fleet.coordinator.tasks.submit(specs)
            let stop = Mutex(false)
            let supervisor = Task { () -> Int in
                var started = 0
                while !stop.withLock({ $0 }) {
                    while fleet.running.count < 4 {
                        _ = try? fleet.startWorker(concurrency: 2, lease: lease, heartbeat: "400ms")
                        started += 1
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return started
            }
            let start = ContinuousClock.now
            let drained = await fleet.awaitDrained(total: total, timeout: .seconds(240))
            stop.withLock { $0 = true }
            let workersStarted = await supervisor.value
            let elapsed = ContinuousClock.now - start
            #expect(drained, "the run did not drain in 240 s")

            let submitted = specs.map { SubmittedTask($0, id: $0.id!, expectedState: poison.contains($0.id!) ? .failed : .done) }
            let result = try await fleet.check(submitted, faults: true)
            report("poison", result, extra: "workersStarted=\(workersStarted) elapsed=\(elapsed)")
            let infos = try await fleet.coordinator.tasks.tasks(specs.map { $0.id! })
            let starts = Dictionary(grouping: fleet.journal().entries.filter(\.isStart), by: \.task).mapValues(\.count)
            var collateral: [String] = []
            var deathsBesidePoison = 0
            for info in infos.compactMap({ $0 }) {
                if poison.contains(info.id) {
                    #expect(info.state == .failed && info.reason == "poison", "\(info.id): \(String(describing: info.state)) \(info.reason ?? "")")
                } else {
                    if info.state != .done { collateral.append("\(info.id) \(info.state?.rawValue ?? "?") \(info.reason ?? "")") }
                    deathsBesidePoison += info.workerDeaths
                }
                #expect(info.attempts <= starts[info.id] ?? 0, "\(info.id): charged \(info.attempts) attempts for \(starts[info.id] ?? 0) starts")
            }
            print("FAULT poison-isolation: good=500 poison=5 collateralFailures=\(collateral.count) goodTasksThatSawAWorkerDie=\(deathsBesidePoison) workersStarted=\(workersStarted)")
            #expect(collateral.isEmpty, "good tasks taken down by the poison: \(collateral.prefix(10))")
        }
    }
}
