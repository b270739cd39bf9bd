/// A layered (Sugiyama-style) drawing of a DAG, computed on the server so the browser only
/// paints: every node gets a column (its longest path from a root: all its prerequisites are in
/// columns to its left) and a row within the column, ordered by barycentre sweeps so that edges
/// cross less. Pure: no Redis, no HTML; ``RunGraphSVG`` draws it.
///
/// Linear in nodes and edges per sweep (plus a sort per column), so 2,000 nodes take
/// milliseconds. Long edges get no dummy nodes (they are drawn straight): good enough for the
/// fan-out/fan-in shapes runs have, and keeps the SVG at one element per edge.
package struct GraphLayout: Sendable, Equatable {
    package struct Metrics: Sendable, Equatable {
        package var nodeWidth = 168.0
        package var nodeHeight = 28.0
        /// Between columns (where the edges run) and between rows.
        package var columnGap = 56.0
        package var rowGap = 10.0
        package var margin = 8.0

        package init() {}
    }

    /// Column of each node (0: no prerequisites).
    package private(set) var layers: [Int]
    /// Row of each node within its column.
    package private(set) var rows: [Int]
    /// Top-left corner of each node's box.
    package private(set) var x: [Double]
    package private(set) var y: [Double]
    package let width: Double
    package let height: Double
    package let metrics: Metrics

    /// Lays out `count` nodes (0..<count, in their natural order: ties keep it) with `edges`
    /// `(prerequisite, dependent)`. A cycle (never in a run: submit refuses them) is broken by
    /// putting the nodes it holds after the others, so the drawing still terminates.
    package init(count: Int, edges: [(Int, Int)], metrics: Metrics = Metrics(), sweeps: Int = 4) {
        self.metrics = metrics
        var prerequisites = [[Int]](repeating: [], count: count)
        var dependents = [[Int]](repeating: [], count: count)
        for (from, to) in edges where from != to && from < count && to < count && from >= 0 && to >= 0 {
            prerequisites[to].append(from)
            dependents[from].append(to)
        }
        let layers = Self.longestPathLayers(count: count, prerequisites: prerequisites, dependents: dependents)
        let columnCount = (layers.max() ?? -1) + 1
        var columns = [[Int]](repeating: [], count: columnCount)
        for node in 0..<count { columns[layers[node]].append(node) }

        var rows = [Int](repeating: 0, count: count)
        func number(_ column: [Int]) { for (row, node) in column.enumerated() { rows[node] = row } }
        columns.forEach(number)
        // A node's place as a fraction of its column's height, so columns of different sizes
        // compare (a barycentre in a 10-row column and one in a 1,000-row column).
        func place(_ node: Int) -> Double { (Double(rows[node]) + 0.5) / Double(columns[layers[node]].count) }
        func reorder(_ column: Int, by neighbours: [[Int]]) {
            let keyed = columns[column].map { node -> (Int, Double) in
                let around = neighbours[node]
                guard !around.isEmpty else { return (node, place(node)) }
                return (node, around.reduce(0) { $0 + place($1) } / Double(around.count))
            }
            // Stable: equal barycentres keep their order.
            let sorted = keyed.enumerated().sorted { lhs, rhs in
                lhs.element.1 != rhs.element.1 ? lhs.element.1 < rhs.element.1 : lhs.offset < rhs.offset
            }
            columns[column] = sorted.map(\.element.0)
            number(columns[column])
        }
        for sweep in 0..<sweeps {
            if sweep % 2 == 0 {
                for column in columns.indices.dropFirst() { reorder(column, by: prerequisites) }
            } else {
                for column in columns.indices.reversed().dropFirst() { reorder(column, by: dependents) }
            }
        }

        let tallest = columns.map(\.count).max() ?? 0
        let rowPitch = metrics.nodeHeight + metrics.rowGap
        let columnPitch = metrics.nodeWidth + metrics.columnGap
        var x = [Double](repeating: 0, count: count)
        var y = [Double](repeating: 0, count: count)
        for (column, nodes) in columns.enumerated() {
            // Shorter columns are centred against the tallest.
            let offset = Double(tallest - nodes.count) * rowPitch / 2
            for (row, node) in nodes.enumerated() {
                x[node] = metrics.margin + Double(column) * columnPitch
                y[node] = metrics.margin + offset + Double(row) * rowPitch
            }
        }
        self.layers = layers
        self.rows = rows
        self.x = x
        self.y = y
        self.width = count == 0 ? 0 : 2 * metrics.margin + Double(columnCount) * columnPitch - metrics.columnGap
        self.height = count == 0 ? 0 : 2 * metrics.margin + Double(tallest) * rowPitch - metrics.rowGap
    }

    /// Each node's longest path from a node without prerequisites (Kahn's order, iterative).
    static func longestPathLayers(count: Int, prerequisites: [[Int]], dependents: [[Int]]) -> [Int] {
        var layers = [Int](repeating: 0, count: count)
        var remaining = prerequisites.map(\.count)
        var ready = (0..<count).filter { remaining[$0] == 0 }
        var done = [Bool](repeating: false, count: count)
        var head = 0
        while head < ready.count {
            let node = ready[head]
            head += 1
            done[node] = true
            for dependent in dependents[node] {
                layers[dependent] = max(layers[dependent], layers[node] + 1)
                remaining[dependent] -= 1
                if remaining[dependent] == 0 { ready.append(dependent) }
            }
        }
        if head < count {
            // Nodes on or after a cycle: one column past the rest.
            let after = (layers.max() ?? 0) + 1
            for node in 0..<count where !done[node] { layers[node] = after }
        }
        return layers
    }

    /// Whether the boxes of `a` and `b` overlap (never, for a layout: the tests check it).
    package func overlaps(_ a: Int, _ b: Int) -> Bool {
        x[a] < x[b] + metrics.nodeWidth && x[b] < x[a] + metrics.nodeWidth
            && y[a] < y[b] + metrics.nodeHeight && y[b] < y[a] + metrics.nodeHeight
    }
}
