import Foundation
import Jobq
import JobqCore
import Synchronization
import Testing

/// How long a finished run's outcome waits before it reaches Redis, and so how many runs that
/// had already succeeded a SIGKILL turns into duplicate executions. Figures come from two
/// independent records: the journal's `E … ok` time (written when the handler returned) and the
/// task's `finished` field (the `complete` script's time), both Unix ms on this one machine.
@Suite("Acknowledgement delay", .enabled(if: redisAvailable), .serialized)
struct AckDelayTests {
    /// Generous for a shared 2-core machine; docs/worker.md states the bound it stands for.
    static let bound: Int64 = 1000

    static func backlog(_ count: Int, prefix: String) -> [TaskSpec] {
        (0..<count).map { index in
            index % 2 == 0 ? spec("\(prefix)\(index)", "jobq.noop", payload: "null") : spec("\(prefix)\(index)", payload: #"{"seconds": 0.002}"#)
        }
    }

    static func submit(_ fleet: Fleet, _ specs: [TaskSpec]) async throws {
        var index = 0
        while index < specs.count {
            _ = try await fleet.coordinator.tasks.submit(Array(specs[index..<min(index + 500, specs.count)]))
            index += 500
        }
    }

    static func percentile(_ sorted: [Int64], _ p: Double) -> Int64 {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    /// Every successful run of a busy worker is recorded within the bound of its handler's return.
    @Test func outcomesReachRedisPromptlyUnderLoad() async throws {
        try await withFleet { fleet in
            let specs = Self.backlog(4000, prefix: "load")
            try await Self.submit(fleet, specs)
            try fleet.startWorker(concurrency: 8)
            #expect(await fleet.awaitDrained(total: specs.count, timeout: .seconds(120)))
            let ends = Dictionary(fleet.journal().entries.filter(\.isSuccessfulEnd).map { ($0.task, $0.time) }, uniquingKeysWith: max)
            var delays: [Int64] = []
            var index = 0
            let ids = specs.map { $0.id! }
            while index < ids.count {
                let page = Array(ids[index..<min(index + 1000, ids.count)])
                for (id, info) in zip(page, try await fleet.coordinator.tasks.tasks(page)) {
                    guard let info, info.state == .done, let finished = info.finished, let ended = ends[id] else {
                        Issue.record("\(id): not DONE with a journal end (\(String(describing: info?.state)))")
                        continue
                    }
                    delays.append(finished - ended)
                }
                index += page.count
            }
            delays.sort()
            let worst = delays.last ?? 0
            print("FAULT ack-delay: tasks=\(delays.count) p50=\(Self.percentile(delays, 0.5))ms p99=\(Self.percentile(delays, 0.99))ms max=\(worst)ms")
            #expect(delays.count == specs.count)
            #expect(worst < Self.bound, "an outcome reached Redis \(worst) ms after its handler returned")
        }
    }

    /// SIGKILLs a busy worker repeatedly. A run that ended OK but is not DONE afterwards lost its
    /// acknowledgement (it will run again after the reap): every such run must have ended within
    /// the bound before the kill, and there are few per kill.
    @Test func aKillLosesOnlyTheLastMomentsAcknowledgements() async throws {
        try await withFleet { fleet in
            let specs = Self.backlog(30000, prefix: "k")
            try await Self.submit(fleet, specs)
            var lostPerKill: [Int] = []
            var inFlightPerKill: [Int] = []
            var worstGap: Int64 = 0
            for _ in 0..<6 {
                let worker = try fleet.startWorker(concurrency: 8)
                try await fleet.awaitJournal { $0.contains { $0.pid == worker.pid && $0.isSuccessfulEnd } }
                try await Task.sleep(for: .milliseconds(Int.random(in: 300...1000)))
                worker.send(SIGKILL)
                let killedAt = unixMilliseconds()
                _ = await worker.waitForExit(timeout: .seconds(5))
                let entries = fleet.journal().entries.filter { $0.pid == worker.pid }
                let ended = Dictionary(entries.filter(\.isSuccessfulEnd).map { ($0.task, $0.time) }, uniquingKeysWith: max)
                let endedIDs = Array(ended.keys)
                var lost = 0
                var index = 0
                while index < endedIDs.count {
                    let page = Array(endedIDs[index..<min(index + 2000, endedIDs.count)])
                    for (id, state) in zip(page, try await fleet.coordinator.tasks.taskStates(page)) where state != .done {
                        lost += 1
                        worstGap = max(worstGap, killedAt - ended[id]!)
                    }
                    index += page.count
                }
                let starts = Set(entries.filter(\.isStart).map(\.task))
                inFlightPerKill.append(starts.subtracting(ended.keys).count)
                lostPerKill.append(lost)
            }
            print("FAULT ack-lost-at-kill: kills=\(lostPerKill.count) lostAcks=\(lostPerKill) (total \(lostPerKill.reduce(0, +))) inFlight=\(inFlightPerKill) worstEndBeforeKill=\(worstGap)ms")
            #expect(worstGap < Self.bound, "a run that ended \(worstGap) ms before the kill had not been recorded")
        }
    }

    /// The repeated-kill scenario's shape (3 workers × 8, the mixed workload submitted while they
    /// run, a SIGKILL every 0.5–1.5 s): lost acknowledgements per kill, and the delay from a
    /// handler's return to its `complete` across the whole run.
    @Test func aFleetUnderRepeatedKillsLosesFewAcknowledgements() async throws {
        try await withFleet { fleet in
            for _ in 0..<3 { try fleet.startWorker(concurrency: 8) }
            let stop = Mutex(false)
            let killer = Task { () -> (lost: [Int], gaps: [Int64]) in
                var lost: [Int] = []
                var gaps: [Int64] = []
                while !stop.withLock({ $0 }), lost.count < 15 {
                    try? await Task.sleep(for: .milliseconds(Int.random(in: 500...1500)))
                    if stop.withLock({ $0 }) { break }
                    guard let victim = fleet.running.randomElement() else { continue }
                    victim.send(SIGKILL)
                    let killedAt = unixMilliseconds()
                    _ = await victim.waitForExit(timeout: .seconds(5))
                    let ended = Dictionary(fleet.journal().entries.filter { $0.pid == victim.pid && $0.isSuccessfulEnd }.map { ($0.task, $0.time) }, uniquingKeysWith: max)
                    let ids = Array(ended.keys)
                    var count = 0
                    if let states = try? await fleet.states(ids) {
                        for id in ids where states[id] != .done {
                            count += 1
                            gaps.append(killedAt - ended[id]!)
                        }
                    }
                    lost.append(count)
                    _ = try? fleet.startWorker(concurrency: 8)
                }
                return (lost, gaps)
            }
            let submitted: [SubmittedTask]
            do {
                submitted = try await FaultScenarioTests.submitWorkload(fleet, batches: 20)
            } catch {
                stop.withLock { $0 = true }
                _ = await killer.value
                throw error
            }
            let drained = await fleet.awaitDrained(total: submitted.count, timeout: .seconds(240))
            stop.withLock { $0 = true }
            let (lost, gaps) = await killer.value
            #expect(drained)
            var ends: [String: Int64] = [:]
            for entry in fleet.journal().entries where entry.isSuccessfulEnd { ends[entry.task] = max(ends[entry.task] ?? 0, entry.time) }
            var delays: [Int64] = []
            let ids = submitted.map(\.id)
            var index = 0
            while index < ids.count {
                let page = Array(ids[index..<min(index + 1000, ids.count)])
                for (id, info) in zip(page, try await fleet.coordinator.tasks.tasks(page)) {
                    if let info, info.state == .done, let finished = info.finished, let ended = ends[id] { delays.append(finished - ended) }
                }
                index += page.count
            }
            delays.sort()
            let worstGap = gaps.max() ?? 0
            print("FAULT ack-fleet: kills=\(lost.count) lostAcks=\(lost) (total \(lost.reduce(0, +)), \(String(format: "%.1f", Double(lost.reduce(0, +)) / Double(max(1, lost.count))))/kill) worstEndBeforeKill=\(worstGap)ms ackDelay p50=\(Self.percentile(delays, 0.5))ms p99=\(Self.percentile(delays, 0.99))ms max=\(delays.last ?? 0)ms")
            #expect(worstGap < Self.bound, "a run that ended \(worstGap) ms before a kill had not been recorded")
            #expect((delays.last ?? 0) < Self.bound, "an outcome reached Redis \(delays.last ?? 0) ms after its handler returned")
        }
    }

    /// Command handlers: from the program's last moment (it prints the time as its result) to the
    /// task's `finished`, with and without a background child holding its output open, and with
    /// a log line (sent by a `report` call before the outcome).
    @Test func commandHandlerOutcomesFollowTheProgramsExit() async throws {
        try await withFleet { fleet in
            let config = fleet.directory + "/stamp.yaml"
            try """
            handlers:
              stamp:
                command: ["/bin/sh", "-c", "date +%s%3N"]
              stamp-leaving-a-child:
                command: ["/bin/sh", "-c", "sleep 30 & date +%s%3N"]
              stamp-logging:
                command: ["/bin/sh", "-c", "echo working >&2; date +%s%3N"]
            """.write(toFile: config, atomically: true, encoding: .utf8)
            try fleet.startWorker(concurrency: 4, extra: ["--config", config])
            var summary: [String] = []
            var worst: Int64 = 0
            var slow = 0
            var runs = 0
            for handler in ["stamp", "stamp-leaving-a-child", "stamp-logging"] {
                let specs = (0..<100).map { spec("\(handler)-\($0)", handler, payload: "null") }
                try await Self.submit(fleet, specs)
                var delays: [Int64] = []
                for task in specs {
                    let info = try await fleet.client.wait(for: task.id!, timeout: .seconds(60))
                    guard info.state == .done, let finished = info.finished, let stamp = Int64(String(decoding: info.result ?? [], as: UTF8.self)) else {
                        Issue.record("\(task.id!): \(info.state) \(info.error ?? "")")
                        continue
                    }
                    delays.append(finished - stamp)
                }
                delays.sort()
                worst = max(worst, delays.last ?? 0)
                slow += delays.filter { $0 > 100 }.count
                runs += delays.count
                summary.append("\(handler): over100ms=\(delays.filter { $0 > 100 }.count) p50=\(Self.percentile(delays, 0.5))ms p99=\(Self.percentile(delays, 0.99))ms max=\(delays.last ?? 0)ms")
            }
            print("FAULT ack-command: \(summary.joined(separator: "; "))")
            #expect(worst < Self.bound)
            // Exit detection by polling the pipes left 9–40 % of runs waiting ~200 ms (a poll
            // timeout); with the pidfd it was 0–1 in 300. 5 % leaves room for a loaded machine.
            #expect(slow * 20 <= runs, "\(slow) of \(runs) outcomes came more than 100 ms after the program's exit")
        }
    }
}
