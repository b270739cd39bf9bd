import Jobq
import JobqCore

/// `/queues`: each queue's ready tasks and whether it is paused, with pause/resume.
enum QueuesPage {
    static func html(_ queues: [QueueInfo], layout: Layout) -> String {
        let rows = queues.map { queue -> [String] in
            var row = [HTML.escape(queue.name), "<td class=\"num\">\(queue.ready)</td>", queue.paused ? "<span class=\"flag\">paused</span>" : "active"]
            if !layout.readOnly {
                row.append(queue.paused
                    ? HTML.actionForm(layout.base + "/actions/resume-queue", fields: [("queue", queue.name)], label: "Resume")
                    : HTML.actionForm(layout.base + "/actions/pause-queue", fields: [("queue", queue.name)], label: "Pause", danger: true))
            }
            return row
        }
        let headers = ["queue", "ready", "state"] + (layout.readOnly ? [] : ["action"])
        return layout.page(title: "Queues", current: "/queues", HTML.table(headers: headers, rows: rows,
            rowAttributes: queues.map { "tabindex=\"0\" data-queue=\"\(HTML.escape($0.name))\"" }, empty: "no queues yet (a queue appears when a task is first submitted to it)"))
    }
}

/// `/workers`: each worker seen alive, its heartbeat age on Redis's clock, and what it runs.
struct WorkersPage: Sendable {
    /// A heartbeat older than this is flagged: workers beat every few seconds.
    static let silentAfterMilliseconds: Int64 = 30_000

    let workers: [WorkerInfo]
    let now: Int64

    func html(_ layout: Layout) -> String {
        let rows = workers.map { worker -> [String] in
            let age = max(0, now - worker.lastSeen)
            let flag = age > Self.silentAfterMilliseconds ? " <span class=\"flag\">silent</span>" : ""
            return [HTML.escape(worker.id), HTML.escape("\(worker.host) pid \(worker.pid)"), HTML.escape(worker.queues.joined(separator: ", ")),
                    "<td class=\"num\">\(worker.running.count)/\(worker.concurrency)</td>",
                    HTML.escape(DurationText.format(milliseconds: age)) + flag,
                    worker.running.map { layout.taskLink($0) }.joined(separator: "<br>")]
        }
        return layout.page(title: "Workers", current: "/workers", HTML.table(headers: ["worker", "host", "queues", "busy", "heartbeat", "running"], rows: rows,
            rowAttributes: workers.map { "tabindex=\"0\" data-worker=\"\(HTML.escape($0.id))\"" }, empty: "no workers alive (start one with: jobq-worker)"))
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
