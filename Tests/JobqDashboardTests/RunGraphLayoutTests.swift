import JobqCore
import Testing
@testable import JobqDashboard

/// The run graph without Redis: the layout, what is collapsed, focused and marked, and the SVG's
/// DOM conventions the live script and the browser test rely on.
@Suite("run graph layout")
struct RunGraphLayoutTests {
    /// A scrambled DAG: each node depends on up to 3 earlier ones, picked by multiplying
    /// (deterministic, so a failure repeats).
    static func scrambledDAG(_ count: Int, seed: Int) -> [(Int, Int)] {
        var edges: [(Int, Int)] = []
        for node in 1..<count {
            for k in 0..<((node * seed + 1) % 4) {
                let back = 1 + (node * (7 + k) + seed * 13) % min(node, 40)
                edges.append((node - back, node))
            }
        }
        return edges
    }

    @Test func layersRespectEveryEdgeAndNoTwoNodesOverlap() {
        for seed in [1, 2, 3] {
            let edges = Self.scrambledDAG(400, seed: seed)
            let layout = GraphLayout(count: 400, edges: edges)
            for (from, to) in edges {
                #expect(layout.layers[from] < layout.layers[to], "edge \(from)->\(to)")
                #expect(layout.x[from] + layout.metrics.nodeWidth < layout.x[to])
            }
            // Longest path: a node with prerequisites sits right after the furthest of them.
            for node in 0..<400 {
                let before = edges.filter { $0.1 == node }.map { layout.layers[$0.0] }
                #expect(layout.layers[node] == (before.max().map { $0 + 1 } ?? 0))
            }
            var overlapping = 0
            for a in 0..<400 { for b in (a + 1)..<400 where layout.overlaps(a, b) { overlapping += 1 } }
            #expect(overlapping == 0)
            for node in 0..<400 {
                #expect(layout.x[node] >= 0 && layout.x[node] + layout.metrics.nodeWidth <= layout.width)
                #expect(layout.y[node] >= 0 && layout.y[node] + layout.metrics.nodeHeight <= layout.height)
            }
        }
    }

    @Test func barycentreSweepsUncrossAnXShape() {
        // a0 -> b1, a1 -> b0: in submission order the two edges cross; ordered, they do not.
        let layout = GraphLayout(count: 4, edges: [(0, 3), (1, 2)])
        #expect(layout.layers == [0, 0, 1, 1])
        #expect((layout.rows[0] < layout.rows[1]) == (layout.rows[3] < layout.rows[2]))
        let unsorted = GraphLayout(count: 4, edges: [(0, 3), (1, 2)], sweeps: 0)
        #expect((unsorted.rows[0] < unsorted.rows[1]) != (unsorted.rows[3] < unsorted.rows[2]))
    }

    @Test func aCycleStillLaysOutEveryNode() {
        let layout = GraphLayout(count: 3, edges: [(0, 1), (1, 2), (2, 1)])
        #expect(layout.layers.count == 3 && layout.layers[0] == 0 && layout.layers[1] > 0 && layout.layers[2] > 0)
        #expect(GraphLayout(count: 0, edges: []).width == 0)
    }

    static func task(_ key: String, _ handler: String = "work", state: TaskState = .done, after: [String] = [], cause: String? = nil) -> GraphTask {
        GraphTask(id: "r/" + key, label: key, handler: handler, state: state, prerequisites: after.map { "r/" + $0 }, cause: cause.map { "r/" + $0 })
    }

    @Test func aGraphAboveTheThresholdIsCollapsedByHandlerAndAGroupExpands() {
        var tasks = [Self.task("start", "prepare")]
        for i in 0..<20 { tasks.append(Self.task("fetch-\(i)", "fetch", state: i == 3 ? .failed : .done, after: ["start"])) }
        for i in 0..<20 { tasks.append(Self.task("parse-\(i)", "parse", state: .running, after: ["fetch-\(i)"])) }
        tasks.append(Self.task("report", "report", state: .pending, after: (0..<20).map { "parse-\($0)" }))

        let full = RunGraphModel(tasks: tasks, threshold: 100)
        #expect(full.nodes.count == 42 && full.collapsed.isEmpty && full.edges.count == 60)

        let collapsed = RunGraphModel(tasks: tasks, threshold: 10)
        #expect(collapsed.collapsed == ["fetch", "parse"])
        #expect(collapsed.nodes.map(\.label) == ["start", "fetch ×20", "parse ×20", "report"])
        // A group shows its most telling state: one failure among 20 DONE.
        #expect(collapsed.nodes[1].state == "FAILED" && collapsed.nodes[2].state == "RUNNING")
        #expect(Set(collapsed.edges.map { "\($0.from)>\($0.to)" }) == ["0>1", "1>2", "2>3"])

        let expanded = RunGraphModel(tasks: tasks, threshold: 10, expand: ["parse"])
        #expect(expanded.collapsed == ["fetch"])
        #expect(expanded.nodes.count == 1 + 1 + 20 + 1)
        #expect(expanded.edges.count == 1 + 20 + 20)

        let html = RunGraphSection.html(run: "r", tasks: tasks, query: [:], threshold: 10)
        #expect(html.contains(#"data-group="fetch""#) && html.contains(#"href="?expand=fetch""#))
        #expect(!html.contains(#"data-task="r/fetch-1""#))
        let opened = RunGraphSection.html(run: "r", tasks: tasks, query: ["expand": "fetch"], threshold: 10)
        #expect(opened.contains(#"data-task="r/fetch-1""#) && opened.contains(#"href="?expand=fetch%2Cparse""#))
    }

    @Test func focusKeepsTheAncestorsOrTheDescendants() {
        // a -> b -> d, a -> c -> d, e -> c, d -> f
        let tasks = [
            Self.task("a"), Self.task("b", after: ["a"]), Self.task("e"), Self.task("c", after: ["a", "e"]),
            Self.task("d", after: ["b", "c"]), Self.task("f", after: ["d"]), Self.task("g"),
        ]
        let up = RunGraphModel(tasks: tasks, focus: "r/c", direction: .up)
        #expect(Set(up.nodes.map(\.label)) == ["a", "e", "c"])
        #expect(up.edges.count == 2)
        let down = RunGraphModel(tasks: tasks, focus: "r/b", direction: .down)
        #expect(Set(down.nodes.map(\.label)) == ["b", "d", "f"])
        #expect(down.focus?.id == "r/b")
        let unknown = RunGraphModel(tasks: tasks, focus: "r/nope")
        #expect(unknown.nodes.count == 7 && unknown.focus == nil)
        // The section takes a key within the run and links back to the whole run.
        let html = RunGraphSection.html(run: "r", tasks: tasks, query: ["focus": "d", "dir": "up"])
        #expect(html.contains(#"data-task="r/a""#) && !html.contains(#"data-task="r/f""#) && !html.contains(#"data-task="r/g""#))
        #expect(html.contains("show the whole run"))
    }

    @Test func theFailedPathIsMarked() {
        // fetch FAILED took down parse, which took down report; cleanup ran anyway (always).
        let tasks = [
            Self.task("fetch", state: .failed), Self.task("other"),
            Self.task("parse", state: .cancelled, after: ["fetch", "other"], cause: "fetch"),
            Self.task("report", state: .cancelled, after: ["parse"], cause: "parse"),
            Self.task("cleanup", state: .done, after: ["fetch"]),
        ]
        let model = RunGraphModel(tasks: tasks)
        let failed = Set(model.edges.filter(\.failedPath).map { "\(model.nodes[$0.from].label)>\(model.nodes[$0.to].label)" })
        #expect(failed == ["fetch>parse", "parse>report"])
        let svg = RunGraphSection.html(run: "r", tasks: tasks, query: [:])
        #expect(svg.components(separatedBy: #"class="failed-path""#).count - 1 == 2)
    }

    @Test func theSVGFollowsTheDOMConventions() {
        let tasks = [Self.task("a", state: .running), Self.task("b<&\"", state: .pending, after: ["a"]), Self.task(String(repeating: "x", count: 40), after: ["a"])]
        let html = RunGraphSection.html(run: "r", tasks: tasks, query: [:])
        #expect(html.hasPrefix(#"<div id="run-graph" class="run-graph" data-run="r" data-graph="r/graph?""#))
        #expect(html.contains(#"<a href="../tasks/r/a" tabindex="-1"><g class="node state-RUNNING" data-task="r/a" data-state="RUNNING" tabindex="0" transform="translate("#))
        #expect(html.contains(#"data-task="r/b&lt;&amp;&quot;" data-state="PENDING""#))
        #expect(html.contains("<title>" + String(repeating: "x", count: 40) + "</title>"))
        // Lean and CSP-clean: no inline script or style, no filters.
        for banned in ["<script", "style=", "<style", "filter", "onclick"] { #expect(!html.contains(banned)) }
        #expect(html.components(separatedBy: "<rect ").count - 1 == 3)
        #expect(html.components(separatedBy: "<path ").count - 1 == 2)
    }
}
