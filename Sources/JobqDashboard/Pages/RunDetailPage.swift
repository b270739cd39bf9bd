import Hummingbird
import Jobq
import JobqCore

/// `/runs/RUN`: the run's summary line (as `jobq status RUN`), its DAG (helper B's section),
/// its tasks, and a timeline of the attempts that did not simply succeed (retries, deaths),
/// with the actions on the whole run.
struct RunDetailPage: Sendable {
    /// Tasks per page (in submission order); the next page is `?after=CURSOR`, and the API says
    /// `more_tasks` and `next` (the cursor) when there are more.
    static let taskLimit = 500

    let run: RunInfo
    let tasks: [TaskInfo]
    /// Where the next page starts; `nil` on the last page.
    let next: WorkflowPageCursor?
    /// Whether this is a later page (the graph and the timeline are on the first only).
    let paged: Bool
    var more: Bool { next != nil }
    /// Histories of the tasks that were retried or failed.
    let attempts: [String: AttemptHistory]
    let now: Int64

    /// `jobq status RUN --json`'s shape: the workflow header, `run`, and the tasks.
    var json: JSONValue {
        RunJSON.status(run, tasks: tasks.map(TaskJSON.summary), more: more, next: next?.description)
    }

    func html(_ layout: Layout, client: JobqClient, query: [String: String]) async throws(JobqError) -> String {
        let graph: String
        do {
            graph = paged ? "<p class=\"muted\"><a href=\"\(HTML.escape(layout.base))/runs/\(HTML.component(run.id))\">The graph is on the first page.</a></p>"
                : try await RunGraphSection.html(client: client, run: run.id, total: run.total, query: query)
        } catch let error as JobqError {
            throw error
        } catch {
            throw JobqError(.internalError, "drawing the graph of run \(run.id): \(error)", subject: run.id)
        }
        let summaryLine = run.summary.description + " = \(run.total)"
        let reason = run.reason.map { " (" + $0 + (run.cause.map { ": " + $0 } ?? "") + ")" } ?? ""
        let summary = """
        <p id="run-summary" data-run="\(HTML.escape(run.id))"><span data-run-state>\(HTML.state(run.state.rawValue))</span> \
        <span data-run-summary>\(HTML.escape(summaryLine))</span>\(HTML.escape(reason))</p>
        """
        let counts = TaskState.allCases.map { state in
            "<li class=\"state-\(state.rawValue)\"><span class=\"n\" data-count=\"\(state.rawValue)\">\(run.counts[state] ?? 0)</span>\(state.rawValue)</li>"
        }.joined()
        let details = HTML.fields([
            ("definition", HTML.escape(run.definition)), ("created", HTML.time(run.created)),
            ("started", HTML.time(run.started)), ("finished", HTML.time(run.finished)),
            ("options", HTML.escape(run.options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))),
            ("parent", run.parent.map { layout.taskLink($0) } ?? "-"),
        ])
        var actions = ""
        if !layout.readOnly {
            var forms: [String] = []
            if (run.counts[.failed] ?? 0) + (run.counts[.cancelled] ?? 0) > 0 {
                forms.append(HTML.actionForm(layout.base + "/actions/retry-run", fields: [("run", run.id)], label: "Retry failed tasks…"))
            }
            if !run.state.isTerminal {
                forms.append(HTML.actionForm(layout.base + "/actions/cancel-run", fields: [("run", run.id)], label: "Cancel run…", danger: true))
            }
            actions = forms.isEmpty ? "" : "<p class=\"actions\">" + forms.joined(separator: " ") + "</p>"
        }
        let rows = tasks.map { task in
            [layout.taskLink(task.id), HTML.escape(task.title), HTML.escape(task.handler), HTML.escape(task.queue),
             "<td class=\"state\">\(HTML.escape(task.state?.rawValue ?? "?"))</td>",
             "<td class=\"num\">\(task.attempts)/\(task.maxAttempts)</td>", HTML.escape(task.error ?? task.reason ?? "")]
        }
        let attributes = tasks.map { "tabindex=\"0\" data-task=\"\(HTML.escape($0.id))\" data-state=\"\(HTML.escape($0.state?.rawValue ?? ""))\"" }
        let more = next.map { cursor in
            "<p class=\"pager\">" + layout.link("/runs/" + HTML.component(run.id) + HTML.query([("after", cursor.description)]), "Next \(Self.taskLimit) tasks →", attributes: "rel=\"next\"") + "</p>"
        } ?? ""
        return layout.page(title: "Run \(run.id)", current: "/runs", live: "/events?run=" + HTML.component(run.id), summary + """
        <ul class="counts">\(counts)</ul>\(details)\(actions)
        <section aria-labelledby="graph"><h2 id="graph">Graph</h2>\(graph)</section>
        <section aria-labelledby="tasks"><h2 id="tasks">Tasks</h2>\(HTML.table(headers: ["task", "title", "handler", "queue", "state", "attempts", "error / reason"], rows: rows, rowAttributes: attributes, empty: "no tasks left (their retention expired)"))\(more)</section>
        <section aria-labelledby="timeline"><h2 id="timeline">Attempts</h2>\(timeline(layout))</section>
        """)
    }

    /// Each task's queue wait (created → first start) and its attempts that were retried, died
    /// or failed, oldest first.
    func timeline(_ layout: Layout) -> String {
        var rows: [[String]] = []
        for task in tasks {
            guard let history = attempts[task.id] else { continue }
            for attempt in history.attempts {
                let wait = attempt.attempt == 1 ? task.created.map { DurationText.format(milliseconds: max(attempt.started - $0, 0)) } ?? "-" : "-"
                rows.append([layout.taskLink(task.id), "<td class=\"num\">\(attempt.attempt)</td>", HTML.escape(attempt.worker),
                             HTML.time(attempt.started), HTML.escape(wait), HTML.escape(DurationText.format(attempt.duration)),
                             HTML.escape(attempt.outcome.rawValue), HTML.escape(attempt.reason + (attempt.error.isEmpty ? "" : ": " + attempt.error))])
            }
        }
        return HTML.table(headers: ["task", "attempt", "worker", "started", "queue wait", "ran", "outcome", "reason"], rows: rows, empty: "no task was retried or failed")
    }
}
