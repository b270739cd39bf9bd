import Jobq
import JobqCore

/// `/queues`: each queue's ready tasks, the age of its oldest one and whether it is paused,
/// with pause/resume.
enum QueuesPage {
    static func html(_ queues: [QueueInfo], layout: Layout) -> String {
        let rows = queues.map { queue -> [String] in
            let oldest = OperatorJSON.oldestMilliseconds(queue).map { HTML.escape(DurationText.format(milliseconds: Int64($0))) } ?? "-"
            var row = [HTML.escape(queue.name), "<td class=\"num\">\(queue.ready)</td>", "<td class=\"num oldest\">\(oldest)</td>", queue.paused ? "<span class=\"flag\">paused</span>" : "active"]
            if !layout.readOnly {
                row.append(queue.paused
                    ? HTML.actionForm(layout.base + "/actions/resume-queue", fields: [("queue", queue.name)], label: "Resume")
                    : HTML.actionForm(layout.base + "/actions/pause-queue", fields: [("queue", queue.name)], label: "Pause", danger: true))
            }
            return row
        }
        let headers = ["queue", "ready", "oldest", "state"] + (layout.readOnly ? [] : ["action"])
        return layout.page(title: "Queues", current: "/queues", HTML.table(headers: headers, rows: rows,
            rowAttributes: queues.map { "tabindex=\"0\" data-queue=\"\(HTML.escape($0.name))\"" }, empty: "no queues yet (a queue appears when a task is first submitted to it)"))
    }
}

/// `/workers`: each worker seen alive, its heartbeat age on Redis's clock, and what it runs;
/// flagged `silent` (no heartbeat for 3 of its intervals) and `overdue` (a task running past its
/// timeout), ``WorkerInfo/isStuck(now:)``.
struct WorkersPage: Sendable {
    let workers: [WorkerInfo]
    let now: Int64

    func html(_ layout: Layout) -> String {
        let rows = workers.map { worker -> [String] in
            let age = max(0, now - worker.lastSeen)
            let flag = worker.isSilent(now: now) ? " <span class=\"flag stuck\">silent</span>" : ""
            return [HTML.escape(worker.id), HTML.escape("\(worker.host) pid \(worker.pid)"), HTML.escape(worker.queues.joined(separator: ", ")),
                    "<td class=\"num\">\(worker.running.count)/\(worker.concurrency)</td>",
                    HTML.escape(DurationText.format(milliseconds: age)) + flag,
                    worker.running.map { id in
                        layout.taskLink(id) + (worker.overdue.contains(id) ? " <span class=\"flag stuck\">overdue</span>" : "")
                    }.joined(separator: "<br>")]
        }
        return layout.page(title: "Workers", current: "/workers", HTML.table(headers: ["worker", "host", "queues", "busy", "heartbeat", "running"], rows: rows,
            rowAttributes: workers.map { "tabindex=\"0\" data-worker=\"\(HTML.escape($0.id))\"" + ($0.isStuck(now: now) ? " data-stuck=\"true\"" : "") },
            empty: "no workers alive (start one with: jobq-worker)"))
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
