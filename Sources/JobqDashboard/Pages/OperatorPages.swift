import Jobq
import JobqCore

/// `/queues`: each queue's ready tasks, how many fair keys they wait under (round-robin claims,
/// docs/flow-control.md), the age of its oldest one and whether it is paused, with pause/resume.
enum QueuesPage {
    static func html(_ queues: [QueueInfo], layout: Layout) -> String {
        let rows = queues.map { queue -> [String] in
            let oldest = OperatorJSON.oldestMilliseconds(queue).map { HTML.escape(DurationText.format(milliseconds: Int64($0))) } ?? "-"
            var row = [HTML.escape(queue.name), "<td class=\"num\">\(queue.ready)</td>", "<td class=\"num fair\">\(queue.fairKeys)</td>", "<td class=\"num oldest\">\(oldest)</td>", queue.paused ? "<span class=\"flag\">paused</span>" : "active"]
            if !layout.readOnly {
                row.append(queue.paused
                    ? HTML.actionForm(layout.base + "/actions/resume-queue", fields: [("queue", queue.name)], label: "Resume")
                    : HTML.actionForm(layout.base + "/actions/pause-queue", fields: [("queue", queue.name)], label: "Pause", danger: true))
            }
            return row
        }
        let headers = ["queue", "ready", "fair keys", "oldest", "state"] + (layout.readOnly ? [] : ["action"])
        return layout.page(title: "Queues", current: "/queues", HTML.table(headers: headers, rows: rows,
            rowAttributes: queues.map { "tabindex=\"0\" data-queue=\"\(HTML.escape($0.name))\"" }, empty: "no queues yet (a queue appears when a task is first submitted to it)"))
    }
}

/// `/workers`: each worker seen alive, its heartbeat age on Redis's clock, and what it runs;
/// flagged `silent` (no heartbeat for 3 of its intervals) and `overdue` (a task running past its
/// timeout), ``WorkerInfo/isStuck(now:)``. A worker's cell lists at most ``shownTasks`` of its
/// tasks, the overdue ones first, then "and N more" linking to `?worker=ID`, where all of them
/// are listed: a page of 100 workers running 10,000 tasks draws 1,000 links, not 10,000.
struct WorkersPage: Sendable {
    let workers: [WorkerInfo]
    let now: Int64
    /// `?worker=ID`: the page of that worker alone, every task it runs listed.
    var only: String? = nil

    /// Running tasks listed per worker on the page of all workers.
    static let shownTasks = 10

    func html(_ layout: Layout) -> String {
        let rows = workers.map { worker -> [String] in
            let age = max(0, now - worker.lastSeen)
            let flag = worker.isSilent(now: now) ? " <span class=\"flag stuck\">silent</span>" : ""
            let overdue = Set(worker.overdue)
            let ordered = worker.overdue + worker.running.filter { !overdue.contains($0) }
            let shown = only == nil ? Array(ordered.prefix(Self.shownTasks)) : ordered
            var running = shown.map { id in
                layout.taskLink(id) + (overdue.contains(id) ? " <span class=\"flag stuck\">overdue</span>" : "")
            }
            if shown.count < ordered.count {
                running.append(layout.link("/workers" + HTML.query([("worker", worker.id)]), "and \(ordered.count - shown.count) more", attributes: "class=\"more\""))
            }
            return [HTML.escape(worker.id), HTML.escape("\(worker.host) pid \(worker.pid)"), HTML.escape(worker.queues.joined(separator: ", ")),
                    "<td class=\"num\">\(worker.running.count)/\(worker.concurrency)</td>",
                    HTML.escape(DurationText.format(milliseconds: age)) + flag,
                    running.joined(separator: "<br>")]
        }
        let title = only.map { "Worker \($0)" } ?? "Workers"
        let back = only == nil ? "" : "<p>" + layout.link("/workers", "← all workers") + "</p>"
        return layout.page(title: title, current: "/workers", back + HTML.table(headers: ["worker", "host", "queues", "busy", "heartbeat", "running"], rows: rows,
            rowAttributes: workers.map { "tabindex=\"0\" data-worker=\"\(HTML.escape($0.id))\"" + ($0.isStuck(now: now) ? " data-stuck=\"true\"" : "") },
            empty: only.map { "no worker \($0) alive" } ?? "no workers alive (start one with: jobq-worker)"))
    }
}

/// `/schedules`: every schedule, its rule, next fire time and last run.
struct SchedulesPage: Sendable {
    let schedules: [Schedule]
    let now: Int64

    func html(_ layout: Layout) -> String {
        let rows = schedules.map { schedule in
            [HTML.escape(schedule.name), HTML.escape(schedule.specText), HTML.escape(schedule.submission.run.definition),
             schedule.paused ? "<span class=\"flag\">paused</span>" : HTML.time(schedule.nextFire),
             schedule.lastRun.map { layout.runLink($0) } ?? "-",
             schedule.lastRunState.map { HTML.state($0.rawValue) } ?? "-", HTML.escape(schedule.lastOutcome ?? "")]
        }
        return layout.page(title: "Schedules", current: "/schedules", HTML.table(headers: ["schedule", "rule", "definition", "next", "last run", "state", "outcome"], rows: rows, empty: "no schedules (add one with: jobq schedule add)"))
    }
}

/// `/limits`: concurrency keys with tasks running or parked, one page at a time.
enum LimitsPage {
    static func html(_ page: LimitPage, layout: Layout) -> String {
        let rows = page.keys.map { usage in
            [HTML.escape(usage.key), "<td class=\"num\">\(usage.running)</td>", "<td class=\"num\">\(usage.limit.map(String.init) ?? "-")</td>", "<td class=\"num\">\(usage.parked)</td>"]
        }
        let next = page.next.map { "<p class=\"pager\">" + layout.link("/limits" + HTML.query([("cursor", $0)]), "Next page →", attributes: "rel=\"next\"") + "</p>" } ?? ""
        return layout.page(title: "Limits", current: "/limits", HTML.table(headers: ["key", "running", "limit", "parked"], rows: rows, empty: "no concurrency key has tasks running or parked") + next)
    }
}
