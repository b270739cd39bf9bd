import Foundation
import JobqCore

/// One line of the test handlers' journal (`JOBQ_TEST_JOURNAL`, see docs/worker.md).
struct JournalEntry: Sendable, Hashable {
    enum Kind: Sendable, Hashable { case start, end(String) }
    var kind: Kind
    var task: String
    var attempt: Int
    var pid: Int32
    /// Unix time in milliseconds (CLOCK_REALTIME of the one machine all processes run on).
    var time: Int64

    var isStart: Bool { kind == .start }
    var isSuccessfulEnd: Bool { kind == .end("ok") }

    /// Parses `S <task> <attempt> <pid> <ms>` / `E <task> <attempt> <pid> <ms> <outcome>`;
    /// an incomplete last line (a process killed mid-write cannot produce one, but be strict) is
    /// reported as unparsable.
    static func parse(_ text: String) -> (entries: [JournalEntry], unparsable: [String]) {
        var entries: [JournalEntry] = []
        var bad: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let parts = line.split(separator: " ")
            guard parts.count >= 5, let attempt = Int(parts[2]), let pid = Int32(parts[3]), let time = Int64(parts[4]) else {
                bad.append(String(line))
                continue
            }
            switch parts[0] {
            case "S" where parts.count == 5:
                entries.append(JournalEntry(kind: .start, task: String(parts[1]), attempt: attempt, pid: pid, time: time))
            case "E" where parts.count == 6:
                entries.append(JournalEntry(kind: .end(String(parts[5])), task: String(parts[1]), attempt: attempt, pid: pid, time: time))
            default:
                bad.append(String(line))
            }
        }
        return (entries, bad)
    }
}

/// What the producer was told: one acknowledged task.
struct SubmittedTask: Sendable, Hashable {
    var id: String
    var prerequisites: [String]
    var maxAttempts: Int
    /// Runs the task needs without faults (1; `n + 1` for `jobq.fail {"times": n}`).
    var expectedRuns: Int = 1
    /// The terminal state the workload was built to reach (`nil`: DONE unless a prerequisite
    /// fails, then CANCELLED).
    var expectedState: TaskState? = nil
}

/// What the event stream said, per task (read live while the scenario ran).
struct EventCounts: Sendable {
    var done: [String: Int] = [:]
    var handBacks: [String: Int] = [:]
    /// Worker deaths not charged (the task ran beside others): RUNNING → PENDING `lease_expired`.
    var refundedDeaths: [String: Int] = [:]
    /// Uncharged re-runs the handler asked for: RUNNING → PENDING `snoozed` / `rate_limited`.
    var snoozes: [String: Int] = [:]
    var doneAttempt: [String: Int] = [:]

    mutating func add(_ record: TaskEventRecord) {
        if record.to == .done {
            done[record.task, default: 0] += 1
            doneAttempt[record.task] = record.attempt
        }
        if record.from == .running, record.to == .pending, record.reason == "shutdown" || record.reason == "hand_back" {
            handBacks[record.task, default: 0] += 1
        }
        if record.from == .running, record.to == .pending, record.reason == "lease_expired" {
            refundedDeaths[record.task, default: 0] += 1
        }
        if record.from == .running, record.to == .pending, record.reason == "snoozed" || record.reason == "rate_limited" {
            snoozes[record.task, default: 0] += 1
        }
    }
}

/// A worker killed at `time` (Unix ms).
struct Kill: Sendable {
    var pid: Int32
    var time: Int64
}

/// Everything the checker compares.
struct RunRecord: Sendable {
    var submitted: [SubmittedTask]
    var journal: [JournalEntry]
    var unparsableJournalLines: [String] = []
    /// Final state per acknowledged id (`nil`: the task does not exist).
    var finalStates: [String: TaskState?]
    var events: EventCounts
    /// Tasks in the namespace in total (to prove one task per idempotency key); `nil`: not checked.
    var tasksInNamespace: Int?
    var kills: [Kill] = []
    /// Whether faults that may legitimately cause re-runs were injected.
    var faultsInjected: Bool
}

/// The checker's verdict: figures and every violation found.
struct CheckReport: Sendable, CustomStringConvertible {
    var tasks = 0
    var kills = 0
    var lost = 0
    var notTerminal = 0
    var duplicatedDone = 0
    var orderViolations = 0
    var extraExecutions = 0
    var attemptViolations = 0
    var worstRerunAfterKill: Double?
    var violations: [String] = []

    var description: String {
        "tasks=\(tasks) kills=\(kills) lost=\(lost) notTerminal=\(notTerminal) dupDone=\(duplicatedDone) orderViolations=\(orderViolations) extraExecutions=\(extraExecutions) attemptViolations=\(attemptViolations) worstRerunAfterKill=\(worstRerunAfterKill.map { String(format: "%.1fs", $0) } ?? "-")"
    }

    mutating func violation(_ text: String) {
        if violations.count < 50 { violations.append(text) }
    }
}

enum Checker {
    static func check(_ run: RunRecord) -> CheckReport {
        var report = CheckReport()
        report.tasks = run.submitted.count
        report.kills = run.kills.count
        let specs = Dictionary(run.submitted.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var starts: [String: [JournalEntry]] = [:]
        var successes: [String: [JournalEntry]] = [:]
        for entry in run.journal {
            if entry.isStart { starts[entry.task, default: []].append(entry) }
            if entry.isSuccessfulEnd { successes[entry.task, default: []].append(entry) }
        }
        for line in run.unparsableJournalLines.prefix(5) { report.violation("unparsable journal line: \(line)") }

        // 1 + 5: every acknowledged task exists and reached exactly one terminal state.
        for spec in run.submitted {
            switch run.finalStates[spec.id] ?? nil {
            case nil:
                report.lost += 1
                report.violation("\(spec.id): acknowledged but missing (lost)")
            case let state? where !state.isTerminal:
                report.notTerminal += 1
                report.violation("\(spec.id): left \(state.rawValue)")
            default:
                break
            }
        }
        if let total = run.tasksInNamespace, total != specs.count {
            report.violation("the namespace holds \(total) tasks but \(specs.count) were acknowledged (a key created more than one task, or a task appeared from nowhere)")
        }

        // 4: DONE recorded at most once; a DONE task has exactly one DONE event.
        for spec in run.submitted {
            let done = run.events.done[spec.id] ?? 0
            if done > 1 {
                report.duplicatedDone += 1
                report.violation("\(spec.id): \(done) DONE events")
            }
            let final = run.finalStates[spec.id] ?? nil
            if final == .done, done == 0 {
                report.violation("\(spec.id): DONE without a DONE event")
            }
            if final == .done, (successes[spec.id] ?? []).isEmpty {
                report.violation("\(spec.id): DONE but no run of it ended successfully in the journal")
            }
            if let expected = spec.expectedState, let final, final != expected {
                report.violation("\(spec.id): ended \(final.rawValue), expected \(expected.rawValue)")
            }
        }

        // 2: no start before every prerequisite's successful end; none after a prerequisite failed.
        for spec in run.submitted where !spec.prerequisites.isEmpty {
            let prerequisitesFailed = spec.prerequisites.contains { prerequisite in
                let state = run.finalStates[prerequisite] ?? nil
                return state == .failed || state == .cancelled
            }
            if prerequisitesFailed, let final = run.finalStates[spec.id] ?? nil, final != .cancelled {
                report.orderViolations += 1
                report.violation("\(spec.id): a prerequisite did not succeed, yet it ended \(final.rawValue) (expected CANCELLED)")
            }
            for start in starts[spec.id] ?? [] {
                for prerequisite in spec.prerequisites {
                    let state = run.finalStates[prerequisite] ?? nil
                    let endedBefore = (successes[prerequisite] ?? []).contains { $0.time <= start.time }
                    if state != .done || !endedBefore {
                        report.orderViolations += 1
                        report.violation("\(spec.id) attempt \(start.attempt) started at \(start.time) before prerequisite \(prerequisite) was DONE (it is \(state?.rawValue ?? "missing"))")
                    }
                }
            }
        }

        // 3: starts ≤ max attempts + hand-backs + uncharged worker deaths + the handler's own
        // snoozes; without faults, no task runs more than it must.
        for spec in run.submitted {
            let runs = starts[spec.id] ?? []
            let handBacks = (run.events.handBacks[spec.id] ?? 0) + (run.events.snoozes[spec.id] ?? 0)
            let refunded = run.events.refundedDeaths[spec.id] ?? 0
            let allowed = spec.maxAttempts + handBacks + refunded
            if runs.count > allowed {
                report.attemptViolations += 1
                report.violation("\(spec.id): started \(runs.count) times; max attempts \(spec.maxAttempts) + \(handBacks) hand-backs and snoozes + \(refunded) uncharged worker deaths")
            }
            if let beyond = runs.map(\.attempt).max(), beyond > spec.maxAttempts {
                report.attemptViolations += 1
                report.violation("\(spec.id): ran attempt \(beyond) of \(spec.maxAttempts)")
            }
            let extra = max(0, runs.count - spec.expectedRuns - handBacks)
            report.extraExecutions += extra
            if extra > 0, !run.faultsInjected {
                report.violation("\(spec.id): ran \(runs.count) times without any fault injected")
            }
        }

        // Measured: from a kill (or stop) to the next start, by another process, of a task the
        // process was running at that moment.
        var worst: Int64?
        for kill in run.kills {
            var open: [String: JournalEntry] = [:]
            for entry in run.journal where entry.pid == kill.pid && entry.time <= kill.time {
                if entry.isStart { open[entry.task] = entry } else { open[entry.task] = nil }
            }
            for task in open.keys {
                guard let rerun = (starts[task] ?? []).filter({ $0.pid != kill.pid && $0.time >= kill.time }).map(\.time).min() else { continue }
                worst = max(worst ?? 0, rerun - kill.time)
            }
        }
        report.worstRerunAfterKill = worst.map { Double($0) / 1000 }
        return report
    }
}
