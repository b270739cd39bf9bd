import Foundation
import JobqCore

/// Draws what `watch` shows, in one of three modes.
struct WatchRenderer {
    enum Mode { case live, lines, json }

    let terminal: Terminal
    let mode: Mode
    private var drawnLines = 0
    private var lastStates: [String: TaskState] = [:]
    private var lastSummary = ""
    private var lastJSON = ""
    private var lastProgressLine: [String: (text: String, at: ContinuousClock.Instant)] = [:]
    private var started = false

    init(terminal: Terminal, mode: Mode) {
        self.terminal = terminal
        self.mode = mode
    }

    mutating func show(_ snapshot: Snapshot, elapsed: Duration) {
        switch mode {
        case .live:
            let lines = snapshot.treeLines(terminal: terminal, elapsed: elapsed, maxRows: terminal.height - 1)
            var out = started ? "" : "\u{1B}[?25l"
            if drawnLines > 0 { out += "\u{1B}[\(drawnLines)F" }
            out += "\u{1B}[J" + lines.joined(separator: "\n") + "\n"
            Console.raw(out)
            drawnLines = lines.count
            started = true
        case .json:
            let text = snapshot.json().rendered()
            if text != lastJSON {
                Console.out(text)
                lastJSON = text
            }
        case .lines:
            let stamp = "[+" + DurationText.format(elapsed) + "]"
            let summary = snapshot.summary.description + " = \(snapshot.summary.total)"
            var changed = false
            for task in snapshot.tasks {
                guard let state = task.state else { continue }
                let before = lastStates[task.id]
                if before != state {
                    let from = before.map { $0.rawValue + " -> " } ?? ""
                    Console.out("\(stamp) \(snapshot.label(of: task)): \(from)\(state.rawValue)  \(snapshot.detail(of: task))")
                    lastStates[task.id] = state
                    changed = true
                }
                if state == .running, let entries = snapshot.progress[task.id], !entries.isEmpty {
                    let tree = ProgressTree(entries)
                    var text = ProgressBar.percent(tree.fraction).trimmingCharacters(in: .whitespaces)
                    if let figures = tree.root.figures { text += " \(figures.current)/\(figures.total)" }
                    if !tree.root.status.isEmpty { text += " " + tree.root.status }
                    let now = ContinuousClock.now
                    if let last = lastProgressLine[task.id], last.text == text || now - last.at < .seconds(5) { continue }
                    lastProgressLine[task.id] = (text, now)
                    Console.out("\(stamp) \(snapshot.label(of: task)): \(text)")
                }
            }
            if changed || summary != lastSummary {
                Console.out("\(stamp) \(snapshot.target.name): \(summary)")
                lastSummary = summary
            }
        }
    }

    /// The last word: the final table (lines mode), the cursor back (live mode).
    mutating func finish(_ snapshot: Snapshot?) {
        switch mode {
        case .live:
            Console.raw("\u{1B}[?25h")
        case .lines:
            if let snapshot {
                Console.out("")
                Waiting.printOutcome(snapshot, json: false)
            }
        case .json:
            break
        }
    }
}
