import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import Testing

/// Snoozes and signal waits under load (issue 11, "Waiting on the outside world"), with real
/// worker processes, a real redis-server, a backlog, a worker killed mid-way, and the test
/// handlers' own journal (plus the test's record of when it sent each signal) as the record.
@Suite("Fault tests: snoozes and signal waits under load", .enabled(if: redisAvailable), .serialized)
struct WaitScenarioTests {
    /// 3 workers × 4 slots drain 800 `jobq.wait` tasks (each waits for its signal `go`), 800
    /// `jobq.snooze` tasks (each snoozes twice) and 2,000 short sleeps. Half the signals are sent
    /// right after the submission, most before their task's wait begins (kept, never lost); the
    /// other half once the journal shows the task waiting. One worker is SIGKILLed a second in and
    /// replaced. From the journal: every task ends with exactly one successful run (or two, when
    /// the killed worker journaled the first and died before its completion reached Redis); no
    /// waiting task's successful run started before its signal was sent; every snoozing task
    /// snoozed at most twice and its successful run is on attempt 1 unless a kill cut one of its runs
    /// (snoozes and waits use no attempt); no task ran twice at once.
    @Test func snoozesAndWaitsUnderLoadWithAWorkerKilled() async throws {
        try await withFleet { fleet in
            let waits = 800, snoozes = 800, sleeps = 2_000
            var specs: [TaskSpec] = []
            for index in 0..<waits { specs.append(spec("w\(index)", "jobq.wait", payload: #"{"signal": "go"}"#)) }
            for index in 0..<snoozes { specs.append(spec("s\(index)", "jobq.snooze", payload: #"{"times": 2, "ms": 20}"#)) }
            for index in 0..<sleeps { specs.append(spec("x\(index)")) }
            specs.shuffle()
            try await RunScenarioTests.warmWorkers(fleet, count: 3, concurrency: 4)
            for start in stride(from: 0, to: specs.count, by: 500) {
                _ = try await fleet.coordinator.tasks.submit(Array(specs[start..<min(start + 500, specs.count)]))
            }
            var sentAt: [String: Int64] = [:]
            func send(_ id: String) async throws {
                sentAt[id] = unixMilliseconds()
                _ = try await fleet.coordinator.tasks.signal(task: id, name: "go", payload: Array(#"{"for":"\#(id)"}"#.utf8))
            }
            for index in 0..<(waits / 2) { try await send("w\(index)") }

            // a second in: one worker dies with whatever it runs; another takes its place
            try await Task.sleep(for: .seconds(1))
            let victim = try #require(fleet.running.first)
            victim.send(SIGKILL)
            let kill = Kill(pid: victim.pid, time: unixMilliseconds())
            try fleet.startWorker(concurrency: 4)

            // the other half once each task is seen waiting (bounded: the rest at the end)
            var late = Set((waits / 2..<waits).map { "w\($0)" })
            let lateDeadline = ContinuousClock.now + .seconds(60)
            while !late.isEmpty, ContinuousClock.now < lateDeadline {
                let waiting = Set(fleet.journal().entries.filter { $0.kind == .end("waiting") }.map(\.task))
                for id in late.intersection(waiting).sorted() {
                    try await send(id)
                    late.remove(id)
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(late.isEmpty, "\(late.count) tasks were never seen waiting")
            for id in late.sorted() { try await send(id) }

            let total = specs.count + 6 // and the warm-ups
            #expect(await fleet.awaitDrained(total: total, timeout: .seconds(120)), "the tasks did not drain in 120 s")

            let journal = fleet.journal()
            #expect(journal.unparsable.isEmpty)
            var runs: [String: [JournalEntry]] = [:]
            for entry in journal.entries { runs[entry.task, default: []].append(entry) }
            let states = try await fleet.states(specs.map { $0.id! })
            var problems: [String] = []
            var rerunAfterSuccess: [String] = []
            for id in specs.map({ $0.id! }) {
                let entries = runs[id] ?? []
                let starts = entries.filter(\.isStart).sorted { $0.time < $1.time }
                let ends = entries.filter { !$0.isStart }
                let successes = ends.filter(\.isSuccessfulEnd)
                if states[id] != .done { problems.append("\(id) ended \(String(describing: states[id] ?? nil))") }
                // A run in the killed worker may have journaled its success and died before the
                // completion reached Redis: its task runs again (at least once). Any other second
                // success is a duplicate.
                let beforeTheKill = successes.filter { $0.pid == kill.pid && $0.time <= kill.time }
                if successes.count > 1 { rerunAfterSuccess.append(id) }
                if successes.isEmpty || successes.count - beforeTheKill.count > 1 {
                    problems.append("\(id): \(successes.count) successful runs (\(successes.map { "pid \($0.pid) at \($0.time)" }), kill of pid \(kill.pid) at \(kill.time))")
                }
                // runs cut by the kill: a start in the victim process with no end, or a success it
                // journaled before its completion reached Redis
                let cut = beforeTheKill.count + starts.filter { start in start.pid == kill.pid && !ends.contains { $0.pid == start.pid && $0.attempt == start.attempt && $0.time >= start.time } }.count
                // no two runs of one task at once: each ended run ends before the next starts
                for (run, next) in zip(starts, starts.dropFirst()) {
                    if let end = ends.first(where: { $0.pid == run.pid && $0.attempt == run.attempt && $0.time >= run.time }), end.time > next.time {
                        problems.append("\(id): a run started at \(next.time) while another ran until \(end.time)")
                    }
                }
                guard let success = successes.max(by: { $0.time < $1.time }), let start = starts.last(where: { $0.pid == success.pid && $0.time <= success.time }) else { continue }
                if id.hasPrefix("w") {
                    if let sent = sentAt[id], start.time < sent { problems.append("\(id): its successful run started \(sent - start.time) ms before its signal was sent") }
                    if sentAt[id] == nil { problems.append("\(id): no signal was sent, yet it succeeded") }
                } else if id.hasPrefix("s") {
                    let snoozed = ends.filter { $0.kind == .end("snoozed") }.count
                    if snoozed > 2 { problems.append("\(id): snoozed \(snoozed) times") }
                    if success.attempt > 1 + cut { problems.append("\(id): succeeded on attempt \(success.attempt) with \(cut) runs cut by the kill") }
                }
            }
            #expect(problems.isEmpty, "\(problems.count) problems, e.g. \(problems.prefix(10))")
            let waited = Set(journal.entries.filter { $0.kind == .end("waiting") }.map(\.task)).count
            let snoozedRuns = journal.entries.filter { $0.kind == .end("snoozed") }.count
            print("FAULT waits: \(waited) of \(waits) tasks waited (the rest found their signal kept); \(snoozedRuns) snoozed runs of \(snoozes) tasks; the kill cut \(journal.entries.filter { $0.pid == kill.pid && $0.isStart }.count - journal.entries.filter { $0.pid == kill.pid && !$0.isStart }.count) runs; \(rerunAfterSuccess.count) ran again after the killed worker journaled their success \(rerunAfterSuccess.prefix(5))")
        }
    }
}
