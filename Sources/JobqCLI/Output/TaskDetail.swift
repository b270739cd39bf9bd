import Foundation
import JobqCore

/// The human form of `status ID`.
enum TaskDetail {
    /// Most lines of a task's error shown (a stack trace can be long; `--json` has all of it).
    static let maxErrorLines = 40

    /// Attempts of the history shown (the newest; `debrief` and `--json` show every one kept).
    static let attemptsShown = 5

    /// "1.2 KB saved 3m ago" (decimal units, as `ls -h --si`; the age on this machine's clock).
    static func checkpointText(bytes: Int, at: Int64?, now: Int64) -> String {
        let size = bytes < 1000 ? "\(bytes) B" : String(format: "%.1f KB", Double(bytes) / 1000)
        guard let at else { return size + " saved" }
        return size + " saved " + DurationText.format(milliseconds: max(now - at, 0)) + " ago"
    }

    /// `children`: what its children are doing (``TaskReport/childrenText``).
    static func print(_ info: TaskInfo, prerequisiteStates: [String: TaskState?], progress: [ProgressEntry], history: AttemptHistory = AttemptHistory(), limit: LimitUsage? = nil, rate: RateUsage? = nil,
                      children: String? = nil) {
        let terminal = Terminal.current
        let width = terminal.isTTY ? terminal.width : 80
        func line(_ label: String, _ value: String) {
            Console.out(ProgressBar.clip(terminal.paint(padded(label, to: 10), .bold) + " " + value, to: width))
        }
        line("task", info.id + (info.title.isEmpty ? "" : "  \"\(info.title)\""))
        var state = terminal.paint(state: info.state)
        if let reason = info.reason, !reason.isEmpty { state += "  (reason: \(reason))" }
        if info.cancelRequested && info.state == .running { state += "  cancel requested" }
        if let source = info.cached { state += "  cached: result of \(source)" }
        if info.outdated { state += "  " + terminal.paint("OUTDATED", .yellow) + " (a prerequisite ended again after it; jobq rerun RUN --outdated)" }
        line("state", state)
        line("handler", info.handler + "   queue: " + info.queue + (info.priority == TaskSpec.defaultPriority ? "" : "   priority: \(info.priority)") + (info.service ? "   service (stopped when its run is over)" : "") + (info.workflow.map { "   workflow: \($0)" } ?? ""))
        var attempts = "\(info.attempts) of \(info.maxAttempts)"
        if info.workerDeaths > 0 {
            attempts += "   worker deaths: \(info.workerDeaths)" + (info.suspectLevel >= 2 ? " (quarantined: runs alone)" : "")
        }
        if info.snoozes > 0 { attempts += "   snoozes: \(info.snoozes) of \(info.maxSnoozes)" }
        line("attempts", attempts + (info.worker.map { "   worker: \($0)" } ?? ""))
        if let wait = Snapshot.waitText(of: info, now: DurationText.nowMilliseconds) { line("waits", wait) }
        if let children { line(info.state == .pending ? "waits" : "children", children) }
        if !info.keptSignals.isEmpty { line("signals", info.keptSignals.joined(separator: ", ") + " (kept)") }
        if let bytes = info.checkpointBytes { line("checkpoint", checkpointText(bytes: bytes, at: info.checkpointAt, now: DurationText.nowMilliseconds)) }
        if !history.attempts.isEmpty {
            let shown = history.attempts.suffix(attemptsShown)
            var lines = AttemptLines.lines(shown, width: width, terminal: terminal, indent: "")
            if shown.count < history.attempts.count {
                lines.append(terminal.paint("… \(history.attempts.count - shown.count) earlier: jobq debrief \(info.id)", .dim))
            }
            if history.malformed > 0 { lines.append(terminal.paint("(\(history.malformed) unreadable entr\(history.malformed == 1 ? "y" : "ies") skipped)", .dim)) }
            for (index, text) in lines.enumerated() { line(index == 0 ? "history" : "", text) }
        }
        if !info.prerequisites.isEmpty {
            let items = info.prerequisites.map { prerequisite -> String in
                let state = (prerequisiteStates[prerequisite.id] ?? nil)?.rawValue ?? "gone"
                return prerequisite.id + (prerequisite.policy == .always ? ":always" : "") + " (\(state))"
            }
            line("after", items.joined(separator: ", "))
            if info.state == .pending && info.unresolvedPrerequisites > 0 {
                line("", "waiting for \(info.unresolvedPrerequisites) of them")
            }
        }
        if let created = info.created {
            var times = DurationText.local(milliseconds: created)
            if let started = info.started { times += "   started +" + DurationText.format(milliseconds: started - created) }
            if let finished = info.finished {
                times += "   finished +" + DurationText.format(milliseconds: finished - created)
                if let started = info.started, finished >= started { times += " (took \(DurationText.format(milliseconds: finished - started)))" }
            }
            line("created", times)
        }
        if info.state == .pending, let runAfter = info.runAfter {
            let left = runAfter - DurationText.nowMilliseconds
            let snoozed = info.reason == "snoozed" ? " (snoozed by its handler)" : ""
            line("runs", left > 0 ? "in \(DurationText.format(milliseconds: left))" + snoozed : "when a worker is free")
        }
        if let key = info.concurrencyKey, let most = info.concurrencyLimit {
            // short enough for 80 columns with a long key: the held phrase, or the key's usage
            if let held = TaskJSON.heldByLimit(info, usage: limit) {
                line("limit", held + ", \(limit?.parked ?? 0) parked")
            } else {
                line("limit", "\(key): at most \(most) running (\(limit?.running ?? 0) now)")
            }
        }
        if let key = info.fairKey {
            line("fair key", "\(key) (claimed in turns with the queue's other keys)")
        }
        if let key = info.uniqueKey, let mode = info.uniqueMode {
            line("unique", "\(key) (\(mode))")
        }
        if let given = info.rate, let key = given.key {
            if let limited = Snapshot.rateLimited(info, usage: rate, now: DurationText.nowMilliseconds) {
                line("rate", limited + ", \(rate?.parked ?? 0) parked")
            } else {
                line("rate", "\(key): at most \(given.text) (\(rate?.startsLeft.map { "\($0) left now" } ?? "–"))")
            }
        }
        if info.state == .pending, let expiresAt = info.expiresAt {
            // (only a task that never started has one: a claim drops it)
            let left = expiresAt - DurationText.nowMilliseconds
            line("expires", left > 0 ? "in \(DurationText.format(milliseconds: left)) unless it starts first" : "now: it ends CANCELLED (expired) at the next claim or maintenance pass")
        }
        if let error = info.error, !error.isEmpty {
            // The error is what people run `status` for: wrapped to the width, every line of it
            // (up to a bound), never cut.
            let lines = wrapped(error, to: max(20, width - 11))
            let shown = lines.prefix(maxErrorLines)
            for (index, text) in shown.enumerated() {
                line(index == 0 ? "error" : "", terminal.paint(text, info.state == .failed ? .red : nil))
            }
            if lines.count > shown.count {
                line("", terminal.paint("… \(lines.count - shown.count) more line(s): jobq status \(info.id) --json", .dim))
            }
        }
        if let cause = info.cause { line("cause", "prerequisite \(cause) did not succeed (jobq status \(cause))") }
        if !progress.isEmpty {
            let tree = ProgressTree(progress)
            var bar = ProgressBar.render(fraction: tree.fraction, width: 22, terminal: terminal) + " " + ProgressBar.percent(tree.fraction)
            if let figures = tree.root.figures { bar += "  \(figures.current)/\(figures.total)" }
            if !tree.root.status.isEmpty { bar += "  " + tree.root.status }
            line("progress", bar)
            tree.groupLines(indent: String(repeating: " ", count: 11), width: width, terminal: terminal).forEach { Console.out($0) }
        }
        line("payload", truncated(JSONValue.stored(info.payload).rendered(), to: width - 11))
        if info.state?.isSuccessLike == true {
            let result = JSONValue.stored(info.result).rendered()
            line("result", truncated(result, to: width - 11))
            if result.count > width - 11 { line("", terminal.paint("full result: jobq result \(info.id)", .dim)) }
        }
    }
}
