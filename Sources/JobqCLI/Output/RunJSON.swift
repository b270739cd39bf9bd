import JobqCore

/// How the CLI shows a run beside its `--json` object (JobqCore's RunJSON).
extension RunJSON {
    /// One line for `jobq runs` and headlines: `RUNNING  2D + 1R + 3P = 6`.
    static func headline(_ run: RunInfo, terminal: Terminal) -> String {
        var line = terminal.paint(run.submitting ? "SUBMITTING" : run.state.rawValue, color(of: run.state)) + "  " + run.summary.description + " = \(run.total)"
        if let reason = run.reason { line += "  (" + reason + (run.cause.map { ": " + $0 } ?? "") + ")" }
        return line
    }

    /// The colour of the task state of the same name.
    static func color(of state: RunState) -> Terminal.Color? {
        Terminal.color(of: TaskState(rawValue: state.rawValue))
    }
}
