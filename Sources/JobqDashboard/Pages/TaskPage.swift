import Jobq
import JobqCore

/// `/tasks/ID`: what `jobq status ID` shows — payload, result, error, attempt history, the
/// progress tree — plus the log tail, prerequisites and dependents, an open question or wait,
/// and the actions on the task.
struct TaskPage: Sendable {
    static let dependentLimit = TaskReport.dependentLimit
    static let logLines = TaskReport.logLines

    /// What `jobq status ID --json` reads and prints too.
    let report: TaskReport

    var info: TaskInfo { report.info }
    var prerequisiteStates: [String: TaskState?] { report.prerequisiteStates }
    var progress: [ProgressEntry] { report.progress }
    var history: AttemptHistory { report.history }
    var limit: LimitUsage? { report.limit }
    var dependents: [(Prerequisite, TaskState?)] { report.dependents }
    var dependentTotal: Int { report.dependentTotal }
    var log: [String] { report.logTail }
    var now: Int64 { report.now }

    /// `jobq status ID --json`: ``TaskReport/json``.
    var json: JSONValue { report.json }

    func html(_ layout: Layout) -> String {
        let state = info.state?.rawValue ?? "?"
        var facts: [(String, String)] = [
            ("state", HTML.state(state) + (info.reason.map { " " + HTML.escape($0) } ?? "") + (info.cause.map { ": " + HTML.escape($0) } ?? "")),
            ("handler", HTML.escape(info.handler)), ("queue", layout.link("/queues", info.queue)),
            ("run", info.workflow.map { layout.runLink($0) } ?? "-"),
            ("attempts", "\(info.attempts)/\(info.maxAttempts)" + (info.workerDeaths > 0 ? " (\(info.workerDeaths) worker death(s))" : "")),
            ("worker", HTML.escape(info.worker ?? "-")),
            ("created", HTML.time(info.created)), ("started", HTML.time(info.started)), ("finished", HTML.time(info.finished)),
        ]
        if let held = TaskJSON.heldByLimit(info, usage: limit) { facts.append(("limit", HTML.escape(held))) }
        // a sub-workflow's, a map's or spawned children's run: linked, with `jobq status`'s words
        if let children = report.children, let text = report.childrenText {
            facts.append((info.state == .pending ? "waits" : "children", layout.runLink(children.id) + " — " + HTML.escape(text)))
        } else if let child = info.childRun ?? info.spawnedRun {
            facts.append(("child run", layout.runLink(child)))
        }
        if info.service { facts.append(("service", "started with its run, stopped when the rest of it has ended")) }
        if info.cancelRequested { facts.append(("cancel", "requested; the handler is told")) }
        var sections = HTML.fields(facts)
        if let error = info.error { sections += "<h2>Error</h2><pre>\(HTML.escape(error))</pre>" }
        sections += waitSection(layout)
        sections += actions(layout)
        sections += "<h2>Payload</h2><pre>\(HTML.escape(String(decoding: info.payload, as: UTF8.self)))</pre>"
        if info.state?.isSuccessLike == true, let result = info.result {
            sections += "<h2>Result</h2><pre>\(HTML.escape(String(decoding: result, as: UTF8.self)))</pre>"
        }
        if !progress.isEmpty {
            let rows = progress.map { entry in
                [HTML.escape(entry.group.isEmpty ? "(task)" : entry.group.joined(separator: " › ")),
                 "<td class=\"num\">\(entry.current)/\(entry.total)</td>",
                 "<progress max=\"\(max(entry.total, 1))\" value=\"\(min(entry.current, max(entry.total, 1)))\"></progress>", HTML.escape(entry.status)]
            }
            sections += "<h2>Progress</h2>" + HTML.table(headers: ["group", "done", "", "status"], rows: rows)
        }
        let attemptRows = history.attempts.map { attempt in
            ["<td class=\"num\">\(attempt.attempt)</td>", HTML.escape(attempt.worker), HTML.time(attempt.started),
             HTML.escape(DurationText.format(attempt.duration)), HTML.escape(attempt.outcome.rawValue),
             HTML.escape(attempt.reason), HTML.escape(attempt.error)]
        }
        sections += "<h2>Attempts</h2>" + HTML.table(headers: ["#", "worker", "started", "ran", "outcome", "reason", "error"], rows: attemptRows, empty: "no attempt has ended yet")
        let prerequisiteRows = info.prerequisites.map { prerequisite in
            let state = (prerequisiteStates[prerequisite.id] ?? nil)?.rawValue
            return [layout.taskLink(prerequisite.id), HTML.escape(prerequisite.policy.rawValue), "<td class=\"state\">\(HTML.escape(state ?? "gone"))</td>"]
        }
        sections += "<h2>Prerequisites</h2>" + HTML.table(headers: ["task", "policy", "state"], rows: prerequisiteRows,
            rowAttributes: info.prerequisites.map { "data-task=\"\(HTML.escape($0.id))\" data-state=\"\(HTML.escape((prerequisiteStates[$0.id] ?? nil)?.rawValue ?? ""))\"" }, empty: "none")
        let dependentRows = dependents.map { dependent, state in
            [layout.taskLink(dependent.id), HTML.escape(dependent.policy.rawValue), "<td class=\"state\">\(HTML.escape(state?.rawValue ?? "gone"))</td>"]
        }
        let more = dependentTotal > dependents.count ? "<p class=\"muted\">\(dependents.count) of \(dependentTotal) shown.</p>" : ""
        sections += "<h2>Dependents</h2>" + HTML.table(headers: ["task", "policy", "state"], rows: dependentRows,
            rowAttributes: dependents.map { "data-task=\"\(HTML.escape($0.0.id))\" data-state=\"\(HTML.escape($0.1?.rawValue ?? ""))\"" }, empty: "none") + more
        sections += "<h2>Log</h2>" + (log.isEmpty ? "<p class=\"empty\">no log lines</p>" : "<pre id=\"log\" data-log=\"\(HTML.escape(info.id))\">\(HTML.escape(log.joined(separator: "\n")))</pre>")
        let live = "/events?task=" + HTML.component(info.id)
        return layout.page(title: "Task \(info.id)", current: "/runs", live: live, attributes: " data-task-page=\"\(HTML.escape(info.id))\"", sections)
    }

    /// The open question (with an answer form) or the signal it waits for.
    func waitSection(_ layout: Layout) -> String {
        guard let name = info.waitingFor else { return "" }
        let timeout = info.waitUntil.map { " (times out in \(DurationText.format(milliseconds: max($0 - now, 0))))" } ?? ""
        if let question = info.question {
            var html = "<h2>Question</h2><p class=\"notice\">\(HTML.escape(question.question))\(HTML.escape(timeout))</p>"
            if !layout.readOnly {
                html += question.choices.map { choice in
                    HTML.actionForm(layout.base + "/actions/answer", fields: [("id", info.id), ("choice", choice)], label: choice)
                }.joined(separator: " ")
            }
            return html
        }
        var html = "<h2>Waiting</h2><p class=\"notice\">waiting for signal <code>\(HTML.escape(name))</code>\(HTML.escape(timeout))</p>"
        if !layout.readOnly {
            html += """
            <form method="post" action="\(HTML.escape(layout.base))/actions/signal"><input type="hidden" name="id" value="\(HTML.escape(info.id))">\
            <input type="hidden" name="name" value="\(HTML.escape(name))"><label>Payload (JSON) <input name="payload" value="null"></label> \
            <button type="submit">Send \(HTML.escape(name))</button></form>
            """
        }
        return html
    }

    func actions(_ layout: Layout) -> String {
        guard !layout.readOnly, let state = info.state else { return "" }
        var forms: [String] = []
        if state == .failed || state == .cancelled {
            forms.append(HTML.actionForm(layout.base + "/actions/retry-task", fields: [("id", info.id)], label: "Retry (and its dependents)"))
        }
        if !state.isTerminal {
            forms.append(HTML.actionForm(layout.base + "/actions/cancel-task", fields: [("id", info.id)], label: "Cancel", danger: true))
        }
        return forms.isEmpty ? "" : "<p class=\"actions\">" + forms.joined(separator: " ") + "</p>"
    }
}
