/// A plain-text table that fits the terminal width (80 columns when output is not a terminal).
///
/// Columns take the width of their widest cell, up to `max`; the one `flexible` column gets what
/// is left and is cut with `…`. Colours are applied after padding, so they never break alignment.
struct Table {
    struct Column {
        var header: String
        var max: Int = 40
        var flexible = false
        var alignRight = false
    }

    struct Cell: ExpressibleByStringLiteral {
        var text: String
        var color: Terminal.Color?

        init(_ text: String, _ color: Terminal.Color? = nil) {
            self.text = text
            self.color = color
        }

        init(stringLiteral value: String) { self.init(value) }
    }

    var columns: [Column]
    var rows: [[Cell]] = []

    init(_ columns: [Column]) { self.columns = columns }

    mutating func add(_ cells: [Cell]) { rows.append(cells) }

    func render(_ terminal: Terminal = .current, width: Int? = nil) -> [String] {
        let total = width ?? (terminal.isTTY ? terminal.width : 80)
        let gap = 2
        var widths = columns.indices.map { index -> Int in
            let cells = rows.map { index < $0.count ? $0[index].text.count : 0 }
            return min(columns[index].max, max(columns[index].header.count, cells.max() ?? 0))
        }
        let used = widths.reduce(0, +) + gap * (columns.count - 1)
        if used > total {
            // Shrink the flexible column first, then the widest ones, never below the header.
            var excess = used - total
            let order = columns.indices.sorted { (columns[$0].flexible ? 1 : 0, widths[$0]) > (columns[$1].flexible ? 1 : 0, widths[$1]) }
            for index in order where excess > 0 {
                let floor = max(columns[index].header.count, 4)
                let cut = min(excess, max(0, widths[index] - floor))
                widths[index] -= cut
                excess -= cut
            }
        }
        var lines: [String] = []
        let header = columns.indices.map { padded(truncated(columns[$0].header, to: widths[$0]), to: widths[$0]) }
        lines.append(trimTrailing(terminal.paint(header.joined(separator: "  "), .bold)))
        for row in rows {
            var parts: [String] = []
            for index in columns.indices {
                let cell = index < row.count ? row[index] : Cell("")
                let text = truncated(cell.text, to: widths[index])
                let fill = String(repeating: " ", count: max(0, widths[index] - text.count))
                let aligned = columns[index].alignRight ? fill + terminal.paint(text, cell.color) : terminal.paint(text, cell.color) + fill
                parts.append(aligned)
            }
            lines.append(trimTrailing(parts.joined(separator: "  ")))
        }
        return lines
    }

    private func trimTrailing(_ line: String) -> String {
        var line = line
        while line.hasSuffix(" ") { line.removeLast() }
        return line
    }
}
