import Jobq
import JobqCore

/// `/runs`: one page of runs, newest first, filtered in the URL (`state`, `definition`),
/// paged by cursor (`after`) over the indexes `jobq runs` reads: never a SCAN.
struct RunsPage: Sendable {
    let page: RunPage
    let state: RunState?
    let definition: String?
    /// `?id=RUN`: the exact-id lookup of the header's form (the page links to the run).
    let lookup: String?

    func html(_ layout: Layout) -> String {
        let states = ["", "pending", "running", "done", "failed", "cancelled"].map { value in
            let selected = (state?.rawValue.lowercased() ?? "") == value ? " selected" : ""
            return "<option value=\"\(value)\"\(selected)>\(value.isEmpty ? "any" : value)</option>"
        }.joined()
        let filters = """
        <form class="filters" method="get" action="\(HTML.escape(layout.base))/runs">
        <label>State <select name="state">\(states)</select></label>
        <label>Definition <input name="definition" value="\(HTML.escape(definition ?? ""))"></label>
        <button type="submit">Filter</button></form>
        """
        let found = lookup.map { id in "<p class=\"notice\">Run id \(HTML.escape(id)): found.</p>" } ?? ""
        let rows = page.runs.map { run in
            [layout.runLink(run.id), HTML.escape(run.definition), "<td class=\"state\">\(HTML.state(run.state.rawValue))</td>",
             HTML.escape(run.summary.description + " = \(run.total)"), HTML.time(run.created), HTML.time(run.finished)]
        }
        let attributes = page.runs.map { "tabindex=\"0\" data-run=\"\(HTML.escape($0.id))\" data-state=\"\($0.state.rawValue)\"" }
        let next = page.next.map { cursor in
            "<p class=\"pager\">" + layout.link("/runs" + HTML.query([("state", state?.rawValue.lowercased()), ("definition", definition), ("after", cursor.description)]), "Next page →", attributes: "rel=\"next\"") + "</p>"
        } ?? ""
        return layout.page(title: "Runs", current: "/runs", found + filters
            + HTML.table(headers: ["run", "definition", "state", "tasks", "created", "finished"], rows: rows, rowAttributes: attributes, empty: "no runs match")
            + next)
    }
}
