import Foundation
import JobqCore

/// jobcontrol's progress tree: a task's progress entries as nested bars.
///
/// Entries name their group by path (`["foo.zip", "downloading"]`); intermediate groups nobody
/// reported are the sums of their children, and the task's own bar (group `[]`) is the sum of
/// the top-level groups when the handler did not report it.
struct ProgressTree {
    final class Node {
        let name: String
        var entry: ProgressEntry?
        var children: [Node] = []

        init(name: String) { self.name = name }

        func child(_ name: String) -> Node {
            if let existing = children.first(where: { $0.name == name }) { return existing }
            let node = Node(name: name)
            children.append(node)
            return node
        }

        /// (current, total): reported, or summed from the children.
        var figures: (current: Int, total: Int)? {
            if let entry { return (entry.current, entry.total) }
            let sums = children.compactMap(\.figures)
            guard !sums.isEmpty else { return nil }
            return (sums.map(\.current).reduce(0, +), sums.map(\.total).reduce(0, +))
        }

        var status: String { entry?.status ?? "" }
    }

    let root = Node(name: "")

    init(_ entries: [ProgressEntry]) {
        for entry in entries {
            var node = root
            for part in entry.group { node = node.child(part) }
            node.entry = entry
        }
    }

    var isEmpty: Bool { root.entry == nil && root.children.isEmpty }

    /// The task-level fraction, if anything was reported.
    var fraction: Double? {
        guard let figures = root.figures, figures.total > 0 else { return nil }
        return min(1, max(0, Double(figures.current) / Double(figures.total)))
    }

    /// Lines for the sub-groups, indented under a task row: `├ name  [bar]  4/10  status`.
    func groupLines(indent: String, width: Int, terminal: Terminal) -> [String] {
        var lines: [String] = []
        func walk(_ node: Node, prefix: String) {
            for (index, child) in node.children.enumerated() {
                let last = index == node.children.count - 1
                let branch = terminal.isTTY ? (last ? "└ " : "├ ") : (last ? "'- " : "|- ")
                let label = prefix + branch + child.name
                var line = indent + padded(truncated(label, to: 24), to: 24) + " "
                if let figures = child.figures {
                    line += ProgressBar.render(fraction: figures.total > 0 ? Double(figures.current) / Double(figures.total) : nil, width: 16, terminal: terminal)
                    line += " \(figures.current)/\(figures.total)"
                }
                if !child.status.isEmpty { line += "  " + child.status }
                lines.append(ProgressBar.clip(line, to: width))
                walk(child, prefix: prefix + (terminal.isTTY ? (last ? "  " : "│ ") : (last ? "   " : "|  ")))
            }
        }
        walk(root, prefix: "")
        return lines
    }
}

/// `[██████░░░░]` on a terminal, `[######....]` elsewhere.
enum ProgressBar {
    static func render(fraction: Double?, width: Int, terminal: Terminal) -> String {
        let inner = max(4, width - 2)
        guard let fraction else {
            return "[" + String(repeating: terminal.isTTY ? "·" : ".", count: inner) + "]"
        }
        let filled = Int((min(1, max(0, fraction)) * Double(inner)).rounded(.down))
        let full = String(repeating: terminal.isTTY ? "█" : "#", count: filled)
        let empty = String(repeating: terminal.isTTY ? "░" : ".", count: inner - filled)
        return "[" + full + empty + "]"
    }

    static func percent(_ fraction: Double?) -> String {
        guard let fraction else { return "   -" }
        let text = String(Int((fraction * 100).rounded(.down))) + "%"
        return String(repeating: " ", count: max(0, 4 - text.count)) + text
    }

    /// Cuts a line (possibly with ANSI colours) to `width` visible columns.
    static func clip(_ line: String, to width: Int) -> String {
        guard visibleWidth(line) > width else { return line }
        var out = ""
        var visible = 0
        var inEscape = false
        for scalar in line.unicodeScalars {
            if inEscape {
                out.unicodeScalars.append(scalar)
                if (0x40...0x7E).contains(scalar.value) && scalar != "[" { inEscape = false }
                continue
            }
            if scalar == "\u{1B}" {
                inEscape = true
                out.unicodeScalars.append(scalar)
                continue
            }
            if visible >= width - 1 { break }
            out.unicodeScalars.append(scalar)
            visible += 1
        }
        return out + "…" + (line.contains("\u{1B}[") ? "\u{1B}[0m" : "")
    }
}
