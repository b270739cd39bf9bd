import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import Testing

/// Workflow runs under load (issue 8, "Tests and measurements"): the window, fail-fast, the
/// deadline and many runs of one definition, with real worker processes, a real redis-server
/// and the test handlers' own journal as the record (never jobq's state alone). Each prints a
/// `FAULT <name>:` line with its figures.
@Suite("Fault tests: workflow runs under load", .enabled(if: redisAvailable), .serialized)
struct RunScenarioTests {
    /// One run of a handler, from its journal lines: start and end (Unix ms), `nil` end when
    /// no end line was written (the run died with its process, or is still going).
    struct Execution {
        var task: String
        var pid: Int32
        var start: Int64
        var end: Int64?
        var outcome: String?
    }

    /// Pairs each start line with the next end line of the same task, attempt and process.
    static func executions(_ entries: [JournalEntry]) -> [Execution] {
        var open: [String: Int] = [:]
        var found: [Execution] = []
        for entry in entries {
            let slot = "\(entry.task) \(entry.attempt) \(entry.pid)"
            switch entry.kind {
            case .start:
                open[slot] = found.count
                found.append(Execution(task: entry.task, pid: entry.pid, start: entry.time))
            case .end(let outcome):
                guard let index = open.removeValue(forKey: slot) else { continue }
                found[index].end = entry.time
                found[index].outcome = outcome
            }
        }
        return found
    }

    /// The most executions running at once per group (`group` nil: not counted). An end and a
    /// start in the same millisecond count the end first: an end line is written before the
    /// outcome goes to Redis, so the slot it frees cannot have been claimed earlier. An
    /// execution without an end counts as running to the end of the record.
    static func peakConcurrency(_ executions: [Execution], group: (String) -> String?) -> [String: Int] {
        var points: [(time: Int64, delta: Int, group: String)] = []
        for execution in executions {
            guard let name = group(execution.task) else { continue }
            points.append((execution.start, 1, name))
            if let end = execution.end { points.append((end, -1, name)) }
        }
        points.sort { $0.time != $1.time ? $0.time < $1.time : $0.delta < $1.delta }
        var current: [String: Int] = [:]
        var peak: [String: Int] = [:]
        for point in points {
            current[point.group, default: 0] += point.delta
            peak[point.group] = max(peak[point.group] ?? 0, current[point.group] ?? 0)
        }
        return peak
    }

    /// Submits `count` standalone sleep tasks of `seconds` each, ids `<prefix><n>`, in chunks.
    static func backlog(_ fleet: Fleet, prefix: String, range: Range<Int>, seconds: Double) async throws -> [TaskSpec] {
        let specs = range.map { spec("\(prefix)\($0)", payload: "{\"seconds\": \(seconds)}", maxAttempts: 1) }
        for start in stride(from: 0, to: specs.count, by: 1000) {
            _ = try await fleet.coordinator.tasks.submit(Array(specs[start..<min(start + 1000, specs.count)]))
        }
        return specs
    }

    /// `count` keyed sleeps `<prefix><n>` in blocks of `block` per key over `keys` keys (so claims
    /// keep meeting a key over its limit), each given its key by `limit` (which returns the
    /// key's name), with an unkeyed sleep `free<n>` after every `freeEvery`; submitted in chunks
    /// of 1,000. Returns the specs and each keyed task's key.
    static func keyedBacklog(_ fleet: Fleet, prefix: String, count: Int, keys: Int, block: Int, freeEvery: Int,
                             payload: (Int, Int) -> String, limit: (inout TaskSpec, Int) -> String) async throws -> (specs: [TaskSpec], keyOf: [String: String]) {
        var keyOf: [String: String] = [:]
        var specs: [TaskSpec] = []
        for index in 0..<count {
            let key = (index / block) % keys
            var task = spec("\(prefix)\(index)", payload: payload(index, key), maxAttempts: 1)
            keyOf[task.id ?? ""] = limit(&task, key)
            specs.append(task)
            if index % freeEvery == freeEvery - 1 { specs.append(spec("free\(index / freeEvery)", payload: #"{"seconds": 0.01}"#, maxAttempts: 1)) }
        }
        for start in stride(from: 0, to: specs.count, by: 1000) {
            _ = try await fleet.coordinator.tasks.submit(Array(specs[start..<min(start + 1000, specs.count)]))
        }
        return (specs, keyOf)
    }

    /// Starts 3 workers × 4 slots, expects `total` tasks to drain within `timeout`, and returns
    /// the journal's executions and how long the drain took.
    static func drainOnThreeWorkers(_ fleet: Fleet, total: Int, timeout: Duration) async throws -> (executions: [Execution], elapsed: Duration) {
        let start = ContinuousClock.now
        for _ in 0..<3 { try fleet.startWorker(concurrency: 4) }
        let drained = await fleet.awaitDrained(total: total, timeout: timeout)
        let elapsed = ContinuousClock.now - start
        #expect(drained, "the tasks did not drain in \(timeout)")
        return (executions(fleet.journal().entries), elapsed)
    }

    /// Seconds in a duration text such as Fleet's `"250ms"`.
    static func seconds(_ text: String) -> Double {
        guard let duration = DurationText.parse(text) else { return .nan }
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// 1. 3 workers × 4 slots; 6 runs of 30 short sleeps (0.05–0.2 s) with window 2 or 3, queued
    /// among 2,000 standalone sleeps: from the handlers' own start/end times, no run ever had
    /// more tasks running than its window, every run ends DONE, and the backlog drained while
    /// windowed tasks waited (their parked tasks did not hold the workers up).
    @Test func theWindowIsNeverExceededAcrossWorkersAndRuns() async throws {
        try await withFleet { fleet in
            var submitted: [SubmittedTask] = []
            var windows: [String: Int] = [:]
            // The runs sit at six depths of the ready list, between chunks of the backlog.
            for run in 0..<6 {
                let backlog = try await Self.backlog(fleet, prefix: "bg", range: (run * 333)..<((run + 1) * 333 + (run == 5 ? 2 : 0)), seconds: 0.01)
                submitted += backlog.map { SubmittedTask($0, id: $0.id!) }
                let id = "win\(run)"
                let window = 2 + run % 2
                windows[id] = window
                let tasks = (0..<30).map { spec("t\($0)", payload: "{\"seconds\": \(0.05 + Double($0 % 4) * 0.05)}", maxAttempts: 1) }
                let result = try await fleet.coordinator.tasks.submit(tasks, run: RunOptions(id: id, definition: "windowed", window: window))
                submitted += zip(tasks, result.tasks).map { SubmittedTask($0, id: $1.id) }
            }
            #expect(submitted.count == 2_180)
            let (executions, elapsed) = try await Self.drainOnThreeWorkers(fleet, total: submitted.count, timeout: .seconds(90))
            let peaks = Self.peakConcurrency(executions) { RunScope.run(of: $0) }
            let busiest = Self.peakConcurrency(executions) { _ in "all" }["all"] ?? 0
            var runLines: [String] = []
            for (run, window) in windows.sorted(by: { $0.key < $1.key }) {
                let info = try await fleet.coordinator.tasks.run(run)
                let peak = peaks[run] ?? 0
                runLines.append("\(run):window=\(window),peak=\(peak)")
                #expect(peak <= window, "run \(run) had \(peak) tasks running at once; its window is \(window)")
                #expect(peak == window, "run \(run) never filled its window of \(window) (peak \(peak)): the test proves nothing")
                #expect(info?.state == .done && info?.counts == [.done: 30], "run \(run): \(String(describing: info?.state)) \(String(describing: info?.counts))")
            }
            // Idle check: the standalone tasks ran while windowed tasks waited for a slot.
            let first = executions.map(\.start).min() ?? 0
            let runEnds = executions.filter { RunScope.run(of: $0.task) != nil }.compactMap(\.end)
            let runsDone = Double((runEnds.max() ?? first) - first) / 1000
            let backlogDone = Double((executions.filter { $0.task.hasPrefix("bg") }.compactMap(\.end).max() ?? first) - first) / 1000
            let windowedStart = executions.filter { RunScope.run(of: $0.task) != nil }.map(\.start).min() ?? first
            let backlogBeside = executions.filter { $0.task.hasPrefix("bg") && $0.start >= windowedStart && $0.start <= (runEnds.max() ?? 0) }.count
            print(String(format: "FAULT run-window: tasks=%d runs=6 workers=3x4 peakBusySlots=%d %@ backlogDrainedAt=%.2fs runsDoneAt=%.2fs backlogStartsWhileRunsOpen=%d elapsed=%@",
                         submitted.count, busiest, runLines.joined(separator: " "), backlogDone, runsDone, backlogBeside, "\(elapsed)"))
            let checked = try await fleet.check(submitted, faults: false)
            report("run-window", checked)
        }
    }

    /// Starts `count` workers of `concurrency` slots on the default queue and waits until they
    /// run tasks (a warm-up of no-ops in the journal), so that what follows starts at once.
    static func warmWorkers(_ fleet: Fleet, count: Int, concurrency: Int) async throws {
        for _ in 0..<count { try fleet.startWorker(concurrency: concurrency) }
        let warmups = (0..<(count * 2)).map { spec("warmup\($0)", "jobq.noop", payload: "null", maxAttempts: 1) }
        _ = try await fleet.coordinator.tasks.submit(warmups)
        try await fleet.awaitJournal { entries in entries.filter { $0.task.hasPrefix("warmup") && $0.isSuccessfulEnd }.count == warmups.count }
    }

    /// 2. A fail_fast run: 8 ten-second sleeps running on 2 workers × 4, 200 more of its tasks
    /// and 2,000 standalone ones queued behind them; then its one failing task runs (on a worker
    /// of its own queue, started once the sleeps run) and fails at once. The running handlers
    /// are cancelled (their journal ends come well before 10 s), the pending tasks end
    /// CANCELLED `fail_fast` without starting, the run FAILED `fail_fast` with the failing task
    /// as cause, and the standalone tasks are not touched.
    @Test func failFastReachesRunningHandlersAndCancelsTheRest() async throws {
        try await withFleet { fleet in
            try await Self.warmWorkers(fleet, count: 2, concurrency: 4)
            let long = (0..<8).map { spec("long\($0)", payload: #"{"seconds": 10}"#, maxAttempts: 1) }
            let pending = (0..<200).map { spec("rest\($0)", payload: #"{"seconds": 10}"#, maxAttempts: 1) }
            var boom = spec("boom", "jobq.fail", payload: #"{"final": true}"#, maxAttempts: 1)
            boom.queue = "trigger"
            let result = try await fleet.coordinator.tasks.submit(long + pending + [boom], run: RunOptions(id: "ff", definition: "failfast", failFast: true))
            let backlog = try await Self.backlog(fleet, prefix: "bg", range: 0..<2000, seconds: 0.005)
            try await fleet.awaitJournal { entries in Set(entries.filter { $0.isStart && $0.task.hasPrefix("ff/long") }.map(\.task)).count == 8 }
            try fleet.startWorker(concurrency: 1, extra: ["--queues", "trigger"])
            let total = result.tasks.count + backlog.count + 4
            let drained = await fleet.awaitDrained(total: total, timeout: .seconds(60))
            #expect(drained, "the tasks did not drain in 60 s")

            let executions = Self.executions(fleet.journal().entries)
            let failed = try #require(executions.first { $0.task == "ff/boom" && $0.outcome == "error" }?.end, "ff/boom never failed in the journal")
            var latencies: [Double] = []
            for task in long.map({ "ff/" + $0.id! }) {
                let runs = executions.filter { $0.task == task }
                #expect(runs.count == 1, "\(task) ran \(runs.count) times")
                guard let run = runs.first else { continue }
                #expect(run.start < failed, "\(task) was not running when ff/boom failed")
                guard let end = run.end else {
                    Issue.record("\(task): no end line")
                    continue
                }
                #expect(run.outcome == "cancelled", "\(task) ended \(run.outcome ?? "?"), not cancelled")
                #expect(end - run.start < 10_000, "\(task) ran its whole 10 s sleep: the cancel never reached it")
                latencies.append(Double(end - failed) / 1000)
            }
            let startedPending = Set(executions.filter { $0.task.hasPrefix("ff/rest") }.map(\.task))
            #expect(startedPending.isEmpty, "pending tasks started after the fail-fast: \(startedPending.sorted().prefix(5))")
            let infos = try await fleet.coordinator.tasks.tasks(pending.map { "ff/" + $0.id! }).compactMap { $0 }
            #expect(infos.count == pending.count)
            let wrong = infos.filter { $0.state != .cancelled || $0.reason != "fail_fast" }
            #expect(wrong.isEmpty, "pending tasks not CANCELLED fail_fast: \(wrong.prefix(3).map { "\($0.id) \($0.state?.rawValue ?? "?") \($0.reason ?? "")" })")
            let longStates = try await fleet.coordinator.tasks.tasks(long.map { "ff/" + $0.id! }).compactMap { $0 }
            #expect(longStates.allSatisfy { $0.state == .cancelled }, "running tasks: \(longStates.map { "\($0.id) \($0.state?.rawValue ?? "?")" })")
            let info = try #require(try await fleet.coordinator.tasks.run("ff"))
            #expect(info.state == .failed && info.reason == "fail_fast" && info.cause == "ff/boom", "run ff: \(info.state) reason=\(info.reason ?? "-") cause=\(info.cause ?? "-")")
            let backlogStates = try await fleet.states(backlog.map { $0.id! })
            let backlogDone = backlogStates.values.filter { $0 == .done }.count
            #expect(backlogDone == backlog.count, "standalone tasks hurt by the fail-fast: \(backlog.count - backlogDone) not DONE")
            latencies.sort()
            print(String(format: "FAULT run-fail-fast: running=%d pending=%d backlog=%d stopLatency(median/worst)=%.3fs/%.3fs longReasons=%@ pendingCause=%@ run=%@ reason=%@ cause=%@",
                         long.count, pending.count, backlog.count, latencies.isEmpty ? .nan : latencies[latencies.count / 2], latencies.last ?? .nan,
                         Set(longStates.map { $0.reason ?? "-" }).sorted().joined(separator: ","), Set(infos.map { $0.cause ?? "-" }).sorted().joined(separator: ","),
                         info.state.rawValue, info.reason ?? "-", info.cause ?? "-"))
        }
    }

    /// Slack on top of one maintenance interval for a deadline: the cancel reaching the
    /// handler (control list, task cancellation, its journal line) on a loaded 2-core machine,
    /// as Fleet.recoveryBound allows 1 s on top of lease + interval.
    static let deadlineSlack = 1.0

    /// 3. A run with a 2 s deadline of 16 ten-second sleeps, 12 of them running on 3 workers ×
    /// 4 (maintenance every Fleet.maintenanceInterval), 2,000 standalone tasks queued behind:
    /// from the journal, every running handler stops after the deadline and within one
    /// maintenance interval (+ slack) of it; the pending ones end CANCELLED `deadline` without
    /// starting, and the run FAILED `deadline`.
    @Test func aDeadlineStopsTheRunWithinOneMaintenanceInterval() async throws {
        try await withFleet { fleet in
            try await Self.warmWorkers(fleet, count: 3, concurrency: 4)
            let long = (0..<16).map { spec("long\($0)", payload: #"{"seconds": 10}"#, maxAttempts: 1) }
            let result = try await fleet.coordinator.tasks.submit(long, run: RunOptions(id: "dl", definition: "deadline", deadline: .after(.seconds(2))))
            let backlog = try await Self.backlog(fleet, prefix: "bg", range: 0..<2000, seconds: 0.005)
            let drained = await fleet.awaitDrained(total: result.tasks.count + backlog.count + 6, timeout: .seconds(60))
            #expect(drained, "the tasks did not drain in 60 s")

            let info = try #require(try await fleet.coordinator.tasks.run("dl"))
            let created = try #require(info.created, "run dl has no creation time")
            let deadline = created + 2000
            let interval = Self.seconds(Fleet.maintenanceInterval)
            let bound = deadline + Int64((interval + Self.deadlineSlack) * 1000)
            let executions = Self.executions(fleet.journal().entries).filter { RunScope.run(of: $0.task) == "dl" }
            #expect(executions.count == 12, "\(executions.count) of the run's tasks ran; 12 slots were free for it")
            var lateness: [Double] = []
            for run in executions {
                guard let end = run.end else {
                    Issue.record("\(run.task): no end line")
                    continue
                }
                #expect(run.start < deadline, "\(run.task) started after the deadline")
                #expect(run.outcome == "cancelled", "\(run.task) ended \(run.outcome ?? "?"), not cancelled")
                // Redis's clock and the journal's are the same machine's: a few ms apart at most.
                #expect(end >= deadline - 20, "\(run.task) stopped \(deadline - end) ms before the deadline")
                #expect(end <= bound, "\(run.task) stopped \(end - deadline) ms after the deadline; bound \(bound - deadline) ms")
                lateness.append(Double(end - deadline) / 1000)
            }
            let ran = Set(executions.map(\.task))
            let infos = try await fleet.coordinator.tasks.tasks(result.tasks.map(\.id)).compactMap { $0 }
            let notRun = infos.filter { !ran.contains($0.id) }
            #expect(notRun.count == 4 && notRun.allSatisfy { $0.state == .cancelled && $0.reason == "deadline" },
                    "pending tasks: \(notRun.map { "\($0.id) \($0.state?.rawValue ?? "?") \($0.reason ?? "")" })")
            #expect(infos.allSatisfy { $0.state == .cancelled }, "tasks of the run not CANCELLED: \(infos.filter { $0.state != .cancelled }.map(\.id))")
            #expect(info.state == .failed && info.reason == "deadline", "run dl: \(info.state) reason=\(info.reason ?? "-")")
            let backlogDone = try await fleet.states(backlog.map { $0.id! }).values.filter { $0 == .done }.count
            #expect(backlogDone == backlog.count, "standalone tasks hurt by the deadline: \(backlog.count - backlogDone) not DONE")
            lateness.sort()
            print(String(format: "FAULT run-deadline: running=%d pending=%d backlog=%d stopAfterDeadline(min/median/worst)=%.3fs/%.3fs/%.3fs bound=%.3fs (interval %@ + %.1fs) runningReasons=%@ run=%@ reason=%@",
                         executions.count, notRun.count, backlog.count, lateness.first ?? .nan, lateness.isEmpty ? .nan : lateness[lateness.count / 2], lateness.last ?? .nan,
                         Double(bound - deadline) / 1000, Fleet.maintenanceInterval, Self.deadlineSlack,
                         Set(infos.filter { ran.contains($0.id) }.map { $0.reason ?? "-" }).sorted().joined(separator: ","), info.state.rawValue, info.reason ?? "-"))
        }
    }

    /// Every object in `value` that says which task made it (`jobq.whoami`'s results, nested
    /// through `$retval` and `result(of:)`): its task ids, and whether each named `run` as its run.
    static func authors(in value: Any, run: String, into found: inout [String], foreign: inout [String]) {
        if let object = value as? [String: Any] {
            if let task = object["task"] as? String {
                found.append(task)
                if object["run"] as? String != run || RunScope.run(of: task) != run { foreign.append(task) }
            }
            for child in object.values { authors(in: child, run: run, into: &found, foreign: &foreign) }
        } else if let array = value as? [Any] {
            for child in array { authors(in: child, run: run, into: &found, foreign: &foreign) }
        }
    }

    /// 4. The same 4-task diamond submitted 100 times at once (a task group, generated run
    /// ids), beside 1,000 standalone tasks, on 3 workers × 4: 100 distinct runs, all DONE;
    /// every task ran exactly once (journal); and every result, as `jobq.whoami` records what
    /// it read through `{"$retval": key}` and `result(of: key)`, came from its own run.
    @Test func oneDefinitionRunAHundredTimesAtOnceStaysSeparate() async throws {
        try await withFleet { fleet in
            let backlog = try await Self.backlog(fleet, prefix: "bg", range: 0..<1000, seconds: 0.005)
            for _ in 0..<3 { try fleet.startWorker(concurrency: 4) }
            let definition = [
                spec("a", "jobq.whoami", payload: #"{"step": "a"}"#, maxAttempts: 1),
                spec("b", "jobq.whoami", payload: #"{"from": {"$retval": "a"}}"#, after: ["a"], maxAttempts: 1),
                spec("c", "jobq.whoami", payload: #"{"from": {"$retval": "a"}}"#, after: ["a"], maxAttempts: 1),
                spec("d", "jobq.whoami", payload: #"{"b": {"$retval": "b"}, "c": {"$retval": "c"}}"#, after: ["b", "c"], maxAttempts: 1),
            ]
            let coordinator = fleet.coordinator
            let results = try await withThrowingTaskGroup(of: SubmitResult.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await coordinator.tasks.submit(definition, run: RunOptions(definition: "diamond")) }
                }
                var results: [SubmitResult] = []
                for try await result in group { results.append(result) }
                return results
            }
            let runs = results.compactMap(\.run)
            #expect(Set(runs).count == 100, "\(Set(runs).count) distinct runs from 100 submissions")
            var submitted = backlog.map { SubmittedTask($0, id: $0.id!) }
            for result in results {
                for (spec, task) in zip(definition, result.tasks) {
                    #expect(task.id == RunScope.id(run: result.run ?? "?", key: spec.id!))
                    submitted.append(SubmittedTask(id: task.id, prerequisites: spec.prerequisites.map { RunScope.id(run: result.run ?? "?", key: $0.id) }, maxAttempts: 1))
                }
            }
            let start = ContinuousClock.now
            let drained = await fleet.awaitDrained(total: submitted.count, timeout: .seconds(90))
            let elapsed = ContinuousClock.now - start
            #expect(drained, "the tasks did not drain in 90 s")

            let executions = Self.executions(fleet.journal().entries)
            let starts = Dictionary(grouping: executions.filter { RunScope.run(of: $0.task) != nil }, by: \.task).mapValues(\.count)
            let expected = Set(submitted.map(\.id).filter { RunScope.run(of: $0) != nil })
            #expect(expected.count == 400)
            let notOnce = expected.filter { starts[$0] != 1 }.sorted()
            #expect(notOnce.isEmpty, "tasks not run exactly once: \(notOnce.prefix(5).map { "\($0)×\(starts[$0] ?? 0)" })")
            let strangers = Set(starts.keys).subtracting(expected)
            #expect(strangers.isEmpty, "the journal shows tasks nobody submitted: \(strangers.sorted().prefix(5))")

            var notDone: [String] = []
            var crossed: [String] = []
            var incomplete: [String] = []
            for run in runs {
                let info = try await fleet.coordinator.tasks.run(run)
                if info?.state != .done || info?.counts != [.done: 4] { notDone.append("\(run) \(String(describing: info?.state))") }
                let sink = try await fleet.coordinator.tasks.task(RunScope.id(run: run, key: "d"))
                guard let bytes = sink?.result, let json = try? JSONSerialization.jsonObject(with: Data(bytes)) else {
                    incomplete.append("\(run): no result of d")
                    continue
                }
                var found: [String] = []
                var foreign: [String] = []
                Self.authors(in: json, run: run, into: &found, foreign: &foreign)
                crossed += foreign.map { "\(run) read \($0)" }
                // d read b and c (twice each: $retval and result(of:)), each of which read a twice.
                let keys = Dictionary(grouping: found.map(RunScope.key(of:)), by: { $0 }).mapValues(\.count)
                if keys != ["d": 1, "b": 2, "c": 2, "a": 8] { incomplete.append("\(run): d's result names \(keys)") }
            }
            #expect(notDone.isEmpty, "runs not DONE: \(notDone.prefix(5))")
            #expect(crossed.isEmpty, "results read across runs: \(crossed.prefix(5))")
            #expect(incomplete.isEmpty, "results not passed along: \(incomplete.prefix(5))")
            print("FAULT run-hundred-runs: runs=\(Set(runs).count) runTasks=\(expected.count) backlog=\(backlog.count) ranNotOnce=\(notOnce.count) notDone=\(notDone.count) crossRunReads=\(crossed.count) incompleteResults=\(incomplete.count) elapsed=\(elapsed)")
            let checked = try await fleet.check(submitted, faults: false)
            report("run-hundred-runs", checked)
        }
    }
}
