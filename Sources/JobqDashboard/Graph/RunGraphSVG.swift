/// Draws a ``RunGraphModel`` laid out by ``GraphLayout`` as one inline SVG, lean enough that
/// 2,000 nodes paint in well under a second: per node a `<g>` with a `<rect>` and a `<text>`
/// (colours from the stylesheet by `state-…` class, no filters, no per-node styles), per edge
/// one `<path>`. The live script finds task nodes by `data-task` and recolours them by
/// switching `data-state` and the `state-…` class.
package enum RunGraphSVG {
    /// Characters of a label that fit a default-width node; longer ones are cut with "…" and the
    /// full text goes in a `<title>`.
    static let labelLimit = 21

    /// - Parameters:
    ///   - taskHref: the task page of a task id.
    ///   - groupHref: the link of a collapsed group (expanding it).
    package static func svg(_ model: RunGraphModel, layout: GraphLayout, taskHref: (String) -> String, groupHref: (String) -> String) -> String {
        let m = layout.metrics
        var out = #"<svg class="dag" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(number(layout.width)) \#(number(layout.height))" width="\#(number(layout.width))" height="\#(number(layout.height))" role="group" aria-label="dependency graph: \#(model.nodes.count) nodes, \#(model.edges.count) edges">"#
        out.reserveCapacity(model.nodes.count * 260 + model.edges.count * 60)
        out += #"<g class="edges">"#
        var failed = ""
        for edge in model.edges {
            let path = #"<path d="M\#(number(layout.x[edge.from] + m.nodeWidth)) \#(number(layout.y[edge.from] + m.nodeHeight / 2))L\#(number(layout.x[edge.to])) \#(number(layout.y[edge.to] + m.nodeHeight / 2))""#
            // Failed-path edges last, so they are drawn over the others.
            if edge.failedPath { failed += path + #" class="failed-path"/>"# } else { out += path + "/>" }
        }
        out += failed + "</g>"
        out += #"<g class="nodes">"#
        let textY = number(m.nodeHeight / 2 + 4.5)
        for (index, node) in model.nodes.enumerated() {
            let label = node.label.count > labelLimit ? String(node.label.prefix(labelLimit - 1)) + "…" : node.label
            let title = label == node.label ? "" : "<title>" + HTML.escape(node.label) + "</title>"
            let state = HTML.escape(node.state)
            if let group = node.group {
                out += #"<a href="\#(HTML.escape(groupHref(group)))" tabindex="-1"><g class="node group state-\#(state)" data-group="\#(HTML.escape(group))" data-state="\#(state)" data-tasks="\#(node.count)" tabindex="0""#
            } else {
                out += #"<a href="\#(HTML.escape(taskHref(node.id)))" tabindex="-1"><g class="node state-\#(state)" data-task="\#(HTML.escape(node.id))" data-state="\#(state)" tabindex="0""#
            }
            out += #" transform="translate(\#(number(layout.x[index])),\#(number(layout.y[index])))">"#
            out += #"<rect width="\#(number(m.nodeWidth))" height="\#(number(m.nodeHeight))" rx="4"/><text x="8" y="\#(textY)">\#(HTML.escape(label))</text>\#(title)</g></a>"#
        }
        out += "</g></svg>"
        return out
    }

    /// A coordinate without a needless fraction ("12", "12.5").
    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
