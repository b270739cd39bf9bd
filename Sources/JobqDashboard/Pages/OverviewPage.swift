import Jobq
import JobqCore

/// `/`: tasks per state now, queues (ready, paused), the namespace's counters, and the tasks
/// ended per minute over the last hours (`?hours=1|6|24|72`).
struct OverviewPage: Sendable {
    let namespace: String
    let overview: NamespaceOverview
    let queues: [QueueInfo]
    let counters: [String: Int]
    let rates: MinuteRates

    /// `jobq stats --json`'s object (``OperatorJSON/overview(namespace:overview:queues:counters:rates:)``).
    var json: JSONValue {
        OperatorJSON.overview(namespace: namespace, overview: overview, queues: queues, counters: counters, rates: rates)
    }

    func html(_ layout: Layout) -> String {
        let counts = TaskState.allCases.map { state in
            "<li class=\"state-\(state.rawValue)\"><span class=\"n\" data-count=\"\(state.rawValue)\">\(OperatorJSON.count(overview, state))</span>\(state.rawValue)</li>"
        }.joined()
        let hours = rates.done.count / 60
        let spans = [1, 6, 24, 72].map { span in
            span == hours ? "<strong>\(span) h</strong>" : layout.link("/?hours=\(span)", "\(span) h")
        }.joined(separator: " · ")
        let queueRows = queues.map { queue in
            [layout.link("/queues", queue.name), "<td class=\"num\">\(queue.ready)</td>", queue.paused ? "<span class=\"flag\">paused</span>" : "active"]
        }
        let names = OperatorJSON.counterNames + counters.keys.filter { !OperatorJSON.counterNames.contains($0) }.sorted()
        let counterRows = names.map { [HTML.escape($0), "<td class=\"num\">\(counters[$0] ?? 0)</td>"] }
        return layout.page(title: "Overview", current: "/", """
        <section aria-labelledby="now"><h2 id="now">Tasks now</h2><ul class="counts">\(counts)</ul>
        <p class="muted">pending: \(overview.ready) ready, \(overview.delayed) delayed, \(overview.waiting) waiting for prerequisites · \(overview.workers) worker(s) alive</p></section>
        <section aria-labelledby="rates"><h2 id="rates">Throughput and failures</h2><p>\(spans)</p>\(RateChart.svg(rates))</section>
        <section aria-labelledby="queues"><h2 id="queues">Queues</h2>\(HTML.table(headers: ["queue", "ready", "state"], rows: queueRows, empty: "no queues yet"))</section>
        <section aria-labelledby="counters"><h2 id="counters">Counters</h2><p class="muted">since the namespace was created</p>\(HTML.table(headers: ["counter", "count"], rows: counterRows))</section>
        """)
    }
}
