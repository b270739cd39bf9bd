import JobqCore

/// The human form of `status WORKFLOW` (and the end of `wait`/`watch` on a workflow).
enum WorkflowTable {
    static func print(_ snapshot: Snapshot) {
        let terminal = Terminal.current
        let summary = snapshot.summary
        if let run = snapshot.run {
            // A run: its own state (which follows its tasks', and says why it stopped).
            var headline = terminal.paint(run.id, .bold) + "  " + RunJSON.headline(run, terminal: terminal)
            headline += terminal.paint("  definition \(run.definition)", .dim)
            if let started = run.started {
                let end = run.finished ?? DurationText.nowMilliseconds
                headline += terminal.paint((run.finished == nil ? ", running for " : ", took ") + DurationText.format(milliseconds: max(0, end - started)), .dim)
            }
            Console.out(headline)
        } else {
            var headline = terminal.paint(snapshot.target.name, .bold) + "  " + summary.description + " = \(summary.total)"
            if summary.isFinished { headline += summary.succeeded ? "  " + terminal.paint("succeeded", .green) : "  " + terminal.paint("did not succeed", .red) }
            Console.out(headline)
        }
        var table = Table([
            .init(header: "TASK", max: 26), .init(header: "STATE", max: 9), .init(header: "RUNS", max: 5, alignRight: true),
            .init(header: "DETAIL", max: 60, flexible: true),
        ])
        for task in snapshot.tasks {
            table.add([
                .init(snapshot.label(of: task)), .init(Snapshot.stateLabel(of: task), task.outdated ? .yellow : Terminal.color(of: task.state)),
                .init("\(task.attempts)/\(task.maxAttempts)"), .init(snapshot.detail(of: task)),
            ])
        }
        table.render().forEach { Console.out($0) }
    }
}
