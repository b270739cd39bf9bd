import Jobq
import JobqCore

/// `/runs`: one page of runs, newest first, filtered in the URL (`state`, `definition`,
/// `queue`, `since`, `until`), paged by cursor (`after`) over the indexes `jobq runs` reads:
/// never a SCAN.
struct RunsPage: Sendable {
    let page: RunPage
    let state: RunState?
    let definition: String?
    /// `?id=RUN`: the exact-id lookup of the header's form (the page links to the run).
    let lookup: String?
    var filters = Filters()

    /// `?queue=`, `?since=`, `?until=` as given (echoed in the form and the next link) and as
    /// read (the queue checked, the times in Redis ms).
    struct Filters: Sendable {
        var text: [(String, String)] = []
        var queue: String?
        var since: Int64?
        var until: Int64?

        init() {}

        /// Throws `invalid_option` for a queue name or time jobq cannot read.
        init(query: [String: String], client: JobqClient) async throws(JobqError) {
            func given(_ name: String) -> String? {
                query[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            }
            if let queue = given("queue") {
                do throws(JobqError) { try Validation.check(name: queue, as: .queue) } catch {
                    throw JobqError(.invalidOption, "queue \(queue): \(error.message)", subject: "queue")
                }
                self.queue = queue
                text.append(("queue", queue))
            }
            func bound(_ name: String) throws(JobqError) -> TimeBound? {
                guard let text = given(name) else { return nil }
                return try TimeBound.parse(text, option: name)
            }
            let since = try bound("since"), until = try bound("until")
            let now = [since, until].contains(where: { $0?.isRelative == true }) ? try await client.serverTime() : 0
            self.since = since?.milliseconds(now: now)
            self.until = until?.milliseconds(now: now)
            if let value = given("since") { text.append(("since", value)) }
            if let value = given("until") { text.append(("until", value)) }
        }

        func value(_ name: String) -> String { text.first { $0.0 == name }?.1 ?? "" }
    }

    func html(_ layout: Layout) -> String {
        let states = ["", "pending", "running", "done", "failed", "cancelled"].map { value in
            let selected = (state?.rawValue.lowercased() ?? "") == value ? " selected" : ""
            return "<option value=\"\(value)\"\(selected)>\(value.isEmpty ? "any" : value)</option>"
        }.joined()
        let form = """
        <form class="filters" method="get" action="\(HTML.escape(layout.base))/runs">
        <label>State <select name="state">\(states)</select></label>
        <label>Definition <input name="definition" value="\(HTML.escape(definition ?? ""))"></label>
        <label>Queue <input name="queue" value="\(HTML.escape(filters.value("queue")))"></label>
        <label>Since <input name="since" placeholder="1h, 2026-05-01T12:00:00Z" value="\(HTML.escape(filters.value("since")))"></label>
        <label>Until <input name="until" placeholder="10m, ms since 1970" value="\(HTML.escape(filters.value("until")))"></label>
        <button type="submit">Filter</button></form>
        """
        let found = lookup.map { id in "<p class=\"notice\">Run id \(HTML.escape(id)): found.</p>" } ?? ""
        let rows = page.runs.map { run in
            [layout.runLink(run.id), HTML.escape(run.definition), "<td class=\"state\">\(HTML.state(run.state.rawValue))</td>",
             HTML.escape(run.summary.description + " = \(run.total)"), HTML.time(run.created), HTML.time(run.finished)]
        }
        let attributes = page.runs.map { "tabindex=\"0\" data-run=\"\(HTML.escape($0.id))\" data-state=\"\($0.state.rawValue)\"" }
        let next = page.next.map { cursor in
            "<p class=\"pager\">" + layout.link("/runs" + HTML.query([("state", state?.rawValue.lowercased()), ("definition", definition)] + filters.text.map { ($0.0, Optional($0.1)) } + [("after", cursor.description)]), "Next page →", attributes: "rel=\"next\"") + "</p>"
        } ?? ""
        return layout.page(title: "Runs", current: "/runs", found + form
            + HTML.table(headers: ["run", "definition", "state", "tasks", "created", "finished"], rows: rows, rowAttributes: attributes, empty: "no runs match")
            + next)
    }
}
