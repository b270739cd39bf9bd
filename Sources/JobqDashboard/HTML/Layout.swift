/// The frame of every page: head (stylesheet and the one script, both from /assets: the CSP
/// allows no inline style or script), a skip link, the navigation, and the page's main content.
package struct Layout: Sendable {
    /// Where the dashboard is mounted ("" or "/jobq"): every link starts with it.
    package let base: String
    package let namespace: String
    package let readOnly: Bool

    /// The navigation: label, path, access key (Alt+key / Alt+Shift+key in most browsers).
    static let sections: [(String, String, String)] = [
        ("Overview", "/", "o"), ("Runs", "/runs", "r"), ("Queues", "/queues", "q"),
        ("Workers", "/workers", "w"), ("Schedules", "/schedules", "s"), ("Limits", "/limits", "l"),
    ]

    /// A full page. `live` is the SSE path B's script follows (`/events`, `/events?run=R`).
    package func page(title: String, current: String, live: String? = "/events", attributes: String = "", _ body: String) -> String {
        let nav = Self.sections.map { label, path, key in
            let here = path == current ? " aria-current=\"page\"" : ""
            return "<a href=\"\(HTML.escape(base + path))\" accesskey=\"\(key)\"\(here)>\(label)</a>"
        }.joined()
        let liveAttribute = live.map { " data-live=\"\(HTML.escape(base + $0))\"" } ?? ""
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(title)) · jobq</title>
        <link rel="stylesheet" href="\(HTML.escape(base))/assets/dashboard.css">
        <script src="\(HTML.escape(base))/assets/dashboard.js" defer></script>
        </head><body\(liveAttribute)\(attributes)>
        <a class="skip" href="#main">Skip to content</a>
        <header><span class="brand">jobq</span> <span class="namespace">namespace \(HTML.escape(namespace))</span>\(readOnly ? " <span class=\"badge\">read-only</span>" : "")
        <nav aria-label="Sections">\(nav)</nav>
        <form class="lookup" method="get" action="\(HTML.escape(base))/runs" role="search"><label>Run id <input name="id" size="24"></label> <button type="submit">Go</button></form>
        </header>
        <main id="main" tabindex="-1">
        <h1>\(HTML.escape(title))</h1>
        \(body)
        </main></body></html>
        """
    }

    /// A link inside the dashboard.
    package func link(_ path: String, _ label: String, attributes: String = "") -> String {
        "<a href=\"\(HTML.escape(base + path))\"\(attributes.isEmpty ? "" : " " + attributes)>\(HTML.escape(label))</a>"
    }

    /// The link to a task's page (ids of run tasks contain a '/': `/tasks/run/key`).
    package func taskLink(_ id: String) -> String {
        link("/tasks/" + HTML.component(id), id)
    }

    package func runLink(_ id: String) -> String {
        link("/runs/" + HTML.component(id), id)
    }
}
