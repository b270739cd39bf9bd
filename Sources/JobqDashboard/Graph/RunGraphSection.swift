import Jobq
import JobqCore

/// The run page's DAG: the run's tasks and edges read from Redis (as `jobq graph RUN` reads
/// them), laid out on the server (``GraphLayout``) and drawn as one inline SVG
/// (``RunGraphSVG``), with the controls that work without JavaScript: expand a collapsed group
/// (`?expand=HANDLER[,HANDLER…]`), show only the ancestors or descendants of a task
/// (`?focus=KEY&dir=up|down`).
///
/// Links are relative to the run page (`BASE/runs/RUN`), so the section works wherever the
/// dashboard is mounted; the live script fetches it again from `BASE/runs/RUN/graph` (same query)
/// when the run gains tasks.
package enum RunGraphSection {
    /// The largest run whose graph the page draws (it reads every task record of the run).
    package static let maxTasksRead = 20_000

    /// The section's HTML (a `<div id="run-graph">`, no heading: the page gives it one).
    /// `query`: the run page's query (`expand`, `focus`, `dir`). Throws `invalid_name` for a bad
    /// run id, `not_found` for a run without tasks or record.
    package static func html(client: JobqClient, run: String, total knownTotal: Int? = nil, query: [String: String]) async throws -> String {
        try Validation.check(name: run, as: .run)
        let total: Int
        if let knownTotal { total = knownTotal } else { total = try await client.run(run).total }
        guard total <= maxTasksRead else {
            // Drawing reads every task record of the run: bounded, so one page view of a run of
            // 100,000 tasks stays a page view.
            return "<div id=\"run-graph\" class=\"run-graph\" data-run=\"\(HTML.escape(run))\"><p class=\"graph-note muted\">\(total) tasks: "
                + "the page draws the graph of runs of up to \(maxTasksRead) tasks; <code>jobq graph \(HTML.escape(run)) --format svg</code> draws any size.</p></div>"
        }
        let infos = try await client.tasks(ofRun: run)
        if infos.isEmpty { _ = try await client.run(run) }
        let tasks = infos.map { info in
            GraphTask(
                id: info.id, label: RunScope.run(of: info.id) == run ? RunScope.key(of: info.id) : info.id,
                handler: info.handler, state: info.state, prerequisites: info.prerequisites.map(\.id), cause: info.cause
            )
        }
        return html(run: run, tasks: tasks, query: query)
    }

    /// The section for tasks already read (pure: what the benchmark and tests time and check).
    package static func html(run: String, tasks: [GraphTask], query: [String: String], threshold: Int = RunGraphModel.defaultThreshold) -> String {
        let expand = Set((query["expand"] ?? "").split(separator: ",").map(String.init))
        let focus = query["focus"].flatMap { $0.isEmpty ? nil : $0 }.map { RunScope.resolve($0, within: run) }
        let direction = RunGraphModel.Direction(rawValue: query["dir"] ?? "") ?? .up
        let model = RunGraphModel(tasks: tasks, threshold: threshold, expand: expand, focus: focus, direction: direction)
        let layout = GraphLayout(count: model.nodes.count, edges: model.edges.map { ($0.from, $0.to) })

        // The page's own query, kept by every link the section makes.
        func link(expand: Set<String>? = nil, focus: String?? = nil, direction: String? = nil) -> String {
            let expanded = (expand ?? Set(query["expand"].map { $0.split(separator: ",").map(String.init) } ?? [])).sorted().joined(separator: ",")
            let focused = focus ?? query["focus"]
            let pairs: [(String, String?)] = [("expand", expanded), ("focus", focused), ("dir", focused == nil ? nil : (direction ?? query["dir"]))]
            let parts = pairs.compactMap { key, value in value.flatMap { $0.isEmpty ? nil : key + "=" + HTML.component($0) } }
            return "?" + parts.joined(separator: "&")
        }
        let svg = RunGraphSVG.svg(
            model, layout: layout,
            // `BASE/runs/RUN` → `BASE/tasks/RUN/KEY`.
            taskHref: { "../tasks/" + HTML.component($0) },
            groupHref: { link(expand: expand.union([$0])) }
        )

        var notes: [String] = []
        let failedEdges = model.edges.filter(\.failedPath).count
        notes.append("\(tasks.count) task\(tasks.count == 1 ? "" : "s")")
        if failedEdges > 0 { notes.append("<span class=\"failed-path-note\">the path a failure took is drawn in red</span>") }
        if case let (id, dir)? = model.focus {
            let what = dir == .up ? "what it depends on" : "what depends on it"
            notes.append("showing \(HTML.escape(RunScope.key(of: id))) and \(what) (\(model.nodes.count) nodes) — <a href=\"\(HTML.escape(link(focus: .some(nil))))\">show the whole run</a>")
        }
        if !model.collapsed.isEmpty {
            notes.append("more than \(RunGraphModel.defaultThreshold) nodes: tasks grouped by handler (a group's colour is its most telling state); open a group to expand it")
        }
        if !expand.isEmpty {
            notes.append("expanded: " + expand.sorted().map { name in
                "\(HTML.escape(name)) (<a href=\"\(HTML.escape(link(expand: expand.subtracting([name]))))\">collapse</a>)"
            }.joined(separator: ", "))
        }
        let focusValue = HTML.escape(query["focus"] ?? "")
        let up = direction == .up ? " selected" : ""
        let down = direction == .down ? " selected" : ""
        let keptExpand = expand.isEmpty ? "" : "<input type=\"hidden\" name=\"expand\" value=\"\(HTML.escape(expand.sorted().joined(separator: ",")))\">"
        let graphURL = HTML.component(run) + "/graph" + link()
        return """
        <div id="run-graph" class="run-graph" data-run="\(HTML.escape(run))" data-graph="\(HTML.escape(graphURL))">\
        <p class="graph-note muted">\(notes.joined(separator: "; "))</p>\
        <form class="graph-focus" method="get">\(keptExpand)<label>Task <input name="focus" value="\(focusValue)" size="16"></label> \
        <select name="dir" aria-label="direction"><option value="up"\(up)>and its ancestors</option><option value="down"\(down)>and its descendants</option></select> \
        <button type="submit">Show</button></form>\
        <div class="graph-scroll">\(svg)</div></div>
        """
    }

    /// The graph's own look, beside the stylesheet's state colours for `.node.state-…`.
    package static let css = """
    .graph-scroll { overflow: auto; max-height: 80vh; border: 1px solid var(--line); background: var(--panel); }
    .dag .edges path { fill: none; stroke: var(--muted); stroke-width: 1; }
    .dag .edges path.failed-path { stroke: var(--failed); stroke-width: 2.5; }
    .dag .node { cursor: pointer; }
    .dag .node:focus { outline: none; }
    .dag .node:focus rect { stroke: var(--fg); stroke-width: 3; }
    .dag .node.group rect { stroke: var(--fg); stroke-dasharray: 4 2; stroke-width: 1.5; }
    .failed-path-note { color: var(--failed); }
    """
}
