import Foundation
import Hummingbird
import Jobq
import JobqCore

extension Dashboard {
    /// Every page with its `/api/v1` twin.
    func addPages<Context: RequestContext>(to group: RouterGroup<Context>, layout: Layout) {
        route(group, "/", api: "/overview", layout: layout, load: { request, _ throws(JobqError) in try await overview(request) },
              json: { $0.json }, html: { model, _ in model.html(layout) })
        route(group, "/runs", layout: layout, load: { request, _ throws(JobqError) in try await runs(request) },
              json: { OperatorJSON.runs($0.page) }, html: { model, _ in model.html(layout) })
        route(group, "/runs/:run", layout: layout, load: { request, context throws(JobqError) in
            try await run(context.parameters.get("run") ?? "", after: Self.query(request)["after"])
        },
              json: { $0.json }, html: { model, request throws(JobqError) in try await model.html(layout, client: client, query: Self.query(request)) })
        route(group, "/tasks/**", layout: layout, load: { _, context throws(JobqError) in
            try await task(context.parameters.getCatchAll().joined(separator: "/"))
        }, json: { $0.json }, html: { model, _ in model.html(layout) })
        route(group, "/queues", layout: layout, load: { _, _ throws(JobqError) in try await client.queues() },
              json: { OperatorJSON.queues($0) }, html: { queues, _ in QueuesPage.html(queues, layout: layout) })
        route(group, "/workers", layout: layout, load: { request, _ throws(JobqError) in try await workers(request) },
              json: { OperatorJSON.workers($0.workers, now: $0.now) }, html: { model, _ in model.html(layout) })
        route(group, "/schedules", layout: layout, load: { _, _ throws(JobqError) in
            SchedulesPage(schedules: try await client.schedules(), now: try await client.serverTime())
        }, json: { model in .object([("schedules", .array(model.schedules.map { ScheduleJSON.object($0, now: model.now) }))]) },
           html: { model, _ in model.html(layout) })
        route(group, "/limits", layout: layout, load: { request, _ throws(JobqError) in
            let cursor = Self.query(request)["cursor"] ?? "0"
            return try await client.limits(cursor: cursor.isEmpty ? "0" : cursor, count: 100)
        }, json: { OperatorJSON.limits($0) }, html: { page, _ in LimitsPage.html(page, layout: layout) })
    }

    /// The request's query parameters, the first value of each.
    static func query(_ request: Request) -> [String: String] {
        var values: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where values[String(key)] == nil {
            values[String(key)] = String(value)
        }
        return values
    }

    func overview(_ request: Request) async throws(JobqError) -> OverviewPage {
        let hours = Int(Self.query(request)["hours"] ?? "") ?? 24
        return OverviewPage(
            namespace: client.namespace, overview: try await client.overview(), queues: try await client.queues(),
            counters: try await client.stats(), rates: try await client.minuteRates(hours: hours)
        )
    }

    func runs(_ request: Request) async throws(JobqError) -> RunsPage {
        let query = Self.query(request)
        let state: RunState?
        if let text = query["state"], !text.isEmpty {
            guard let parsed = RunState(rawValue: text.uppercased()) else {
                throw JobqError(.invalidOption, "state \(text) is not a run state (pending, running, done, failed, cancelled)", subject: text)
            }
            state = parsed
        } else {
            state = nil
        }
        let definition = query["definition"].flatMap { $0.isEmpty ? nil : $0 }
        var cursor: RunCursor?
        if let after = query["after"], !after.isEmpty {
            guard let parsed = RunCursor(after) else { throw JobqError(.invalidOption, "after \(after) is not a cursor (MILLISECONDS:RUN)", subject: after) }
            cursor = parsed
        }
        let limit = min(max(Int(query["limit"] ?? "") ?? 50, 1), 1000)
        if let id = query["id"]?.trimmingCharacters(in: .whitespaces), !id.isEmpty {
            // the exact-id lookup: that run alone, or not_found
            return RunsPage(page: RunPage(runs: [try await client.run(id)], next: nil), state: nil, definition: nil, lookup: id)
        }
        let filters = try await RunsPage.Filters(query: query, client: client)
        let page = try await client.runs(
            definition: definition, state: state, queue: filters.queue,
            submittedSince: filters.since, submittedUntil: filters.until, after: cursor, limit: limit
        )
        return RunsPage(page: page, state: state, definition: definition, lookup: nil, filters: filters)
    }

    /// `after`: the page cursor (`?after=`, from the previous page's "next" link), `nil` for the
    /// first page.
    func run(_ id: String, after: String?) async throws(JobqError) -> RunDetailPage {
        let info = try await client.run(id)
        var cursor: WorkflowPageCursor?
        if let after, !after.isEmpty {
            guard let parsed = WorkflowPageCursor(after) else { throw JobqError(.invalidOption, "after \(after) is not a task page cursor (a number)", subject: after) }
            cursor = parsed
        }
        // one page of tasks: a run of 100,000 tasks is not read whole for one page
        let (ids, next) = try await client.taskIDs(inWorkflow: id, after: cursor, limit: RunDetailPage.taskLimit)
        let tasks = try await client.tasks(ids).compactMap { $0 }
        let histories = try await client.attempts(of: tasks.filter { $0.attempts > 1 || $0.state == .failed }.map(\.id))
        var attempts: [String: AttemptHistory] = [:]
        for (task, history) in zip(tasks.filter { $0.attempts > 1 || $0.state == .failed }, histories) { attempts[task.id] = history }
        return RunDetailPage(run: info, tasks: tasks, next: next, paged: cursor != nil, attempts: attempts, now: try await client.serverTime())
    }

    /// Every worker, or only `?worker=ID` (the page a worker's "and N more" links to: all it
    /// runs); a worker that is not alive is an empty list, as in `jobq workers`.
    func workers(_ request: Request) async throws(JobqError) -> WorkersPage {
        let workers = try await client.workers()
        let now = try await client.serverTime()
        guard let only = Self.query(request)["worker"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return WorkersPage(workers: workers, now: now)
        }
        return WorkersPage(workers: workers.filter { $0.id == only }, now: now, only: only)
    }

    func task(_ id: String) async throws(JobqError) -> TaskPage {
        TaskPage(report: try await client.taskReport(id))
    }
}
