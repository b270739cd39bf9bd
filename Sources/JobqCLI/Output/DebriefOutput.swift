import JobqCore

/// The text and `--json` forms of `jobq debrief` (docs/cli.md documents both).
enum DebriefOutput {
    /// Ids listed per collapsed group in text (all kept ones are in `--json`).
    static let idsShown = 5

    static func print(_ report: DebriefReport) {
        // A run's debrief names its tasks by key (in text; `--json` keeps the full ids).
        func named(_ id: String) -> String {
            guard let workflow = report.workflow, RunScope.run(of: id) == workflow else { return id }
            return RunScope.key(of: id)
        }
        let terminal = Terminal.current
        let width = terminal.isTTY ? terminal.width : 80
        Console.out(terminal.paint(report.summary, .bold))
        for problem in report.problems {
            let info = problem.info
            Console.out("")
            Console.out(terminal.paint(state: info.state) + "  " + terminal.paint(named(info.id), .bold) + (info.title.isEmpty ? "" : "  \"\(info.title)\""))
            func line(_ label: String, _ value: String) {
                Console.out(ProgressBar.clip("  " + padded(label, to: 9) + " " + value, to: width))
            }
            line("handler", info.handler + "   queue: " + info.queue + (info.workflow.map { "   workflow: \($0)" } ?? ""))
            if let reason = info.reason { line("reason", reason) }
            if let error = info.error, !error.isEmpty {
                let lines = wrapped(error, to: max(20, width - 12))
                for (index, text) in lines.prefix(TaskDetail.maxErrorLines).enumerated() { line(index == 0 ? "error" : "", text) }
                if lines.count > TaskDetail.maxErrorLines { line("", terminal.paint("… \(lines.count - TaskDetail.maxErrorLines) more line(s): jobq status \(info.id) --json", .dim)) }
            }
            var attempts = "\(info.attempts) of \(info.maxAttempts)"
            if info.workerDeaths > 0 { attempts += "   worker deaths: \(info.workerDeaths)" }
            line("attempts", attempts)
            if problem.history.attempts.isEmpty {
                line("", terminal.paint("never started", .dim))
            } else {
                AttemptLines.lines(problem.history.attempts, width: width, terminal: terminal, indent: "    ").forEach { Console.out($0) }
                if problem.history.attempts.count == TaskAttempt.keptAfterFirst + 1 {
                    Console.out(ProgressBar.clip(terminal.paint("    (the first and the last \(TaskAttempt.keptAfterFirst) attempts are kept)", .dim), to: width))
                }
            }
            if problem.history.malformed > 0 { line("", terminal.paint("\(problem.history.malformed) unreadable history entr\(problem.history.malformed == 1 ? "y" : "ies") skipped", .dim)) }
            if problem.tookDown > 0 { line("took down", "\(problem.tookDown) dependent task\(problem.tookDown == 1 ? "" : "s") (cancelled, below)") }
        }
        if !report.groups.isEmpty {
            Console.out("")
            Console.out(terminal.paint("Cancelled because a prerequisite did not succeed", .bold))
            for group in report.groups {
                let verb: String
                switch group.rootState {
                case .failed: verb = "failed"
                case .cancelled: verb = "was cancelled"
                case nil: verb = "did not succeed (its record is gone)"
                case let state?: verb = "did not succeed (now \(state.rawValue))"
                }
                var names = group.ids.prefix(idsShown).map(named).joined(separator: ", ")
                if group.count > idsShown { names += ", … \(group.count - idsShown) more" }
                Console.out(ProgressBar.clip("  \(group.count) task\(group.count == 1 ? "" : "s") cancelled because \(named(group.root)) \(verb): \(names)", to: width))
            }
        }
        if !report.recovered.isEmpty {
            Console.out("")
            Console.out(terminal.paint("Recovered after retries", .bold))
            for entry in report.recovered {
                let failed = entry.history.unsuccessful
                Console.out(ProgressBar.clip("  " + terminal.paint(named(entry.info.id), .bold) + (entry.info.title.isEmpty ? "" : "  \"\(entry.info.title)\"")
                    + "  DONE after \(failed) unsuccessful attempt\(failed == 1 ? "" : "s")", to: width))
                AttemptLines.lines(entry.history.attempts.filter { !$0.outcome.isRefundedByChoice }, width: width, terminal: terminal, indent: "    ").forEach { Console.out($0) }
            }
        }
    }

    static func json(_ report: DebriefReport) -> JSONValue {
        .object([
            ("name", .string(report.name)),
            ("workflow", .optional(report.workflow)),
            ("summary", .string(report.summary)),
            ("counts", .object([
                ("tasks", .int(report.total)),
                ("failed", .int(report.failedCount)),
                ("cancelled", .int(report.cancelledCount)),
                ("cancelled_dependency", .int(report.dependencyCount)),
                ("recovered", .int(report.recovered.count)),
                ("unfinished", .int(report.unfinished)),
            ])),
            ("problems", .array(report.problems.map { problem in
                guard case .object(let fields) = TaskJSON.debriefed(problem.info, history: problem.history) else { return .null }
                return .object(fields + [("took_down", .int(problem.tookDown))])
            })),
            ("cancelled_by_dependency", .array(report.groups.map { group in
                .object([
                    ("cause", .string(group.root)),
                    ("cause_state", .optional(group.rootState?.rawValue)),
                    ("count", .int(group.count)),
                    ("ids", .array(group.ids.map { .string($0) })),
                ])
            })),
            ("recovered", .array(report.recovered.map { TaskJSON.debriefed($0.info, history: $0.history) })),
        ])
    }
}
