/// The `--json` form of a run record (`jobq runs`, `jobq status RUN`, `jobq submit -f`, the dashboard's API).
package enum RunJSON {
    package static func object(_ run: RunInfo) -> JSONValue {
        .object([
            ("id", .string(run.id)),
            ("definition", .string(run.definition)),
            ("state", .string(run.state.rawValue)),
            ("submitting", .bool(run.submitting)),
            ("reason", .optional(run.reason)),
            ("cause", .optional(run.cause)),
            ("summary", .string(run.summary.description + " = \(run.total)")),
            // Lower-case state names, as the `counts` of a workflow and of `jobq stats` have them.
            ("counts", .object(TaskState.allCases.map { ($0.rawValue.lowercased(), .int(run.counts[$0] ?? 0)) })),
            ("total", .int(run.total)),
            ("created", TaskJSON.time(run.created)),
            ("started", TaskJSON.time(run.started)),
            ("finished", TaskJSON.time(run.finished)),
            ("cancel_requested", .bool(run.cancelRequested != nil)),
            ("options", .object(run.options.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
        ])
    }

    /// `jobq status RUN --json` and the dashboard's `/api/v1/runs/RUN`: the workflow header
    /// (``TaskJSON/workflow(_:tasks:key:)``), `run`, the tasks, `more_tasks` (the dashboard pages
    /// them, 500 at a time; the CLI lists them all: `false`) and `next` (the cursor of the next
    /// page, only when there is one). The CLI's tasks carry `detail` and `progress` more: reading
    /// them costs a read of every running task's progress and of the limits, which a page of a
    /// run kept live by its event stream does not pay.
    package static func status(_ run: RunInfo, tasks: [JSONValue], more: Bool, next: String?) -> JSONValue {
        let workflow = TaskJSON.workflow(StateCounts(name: run.id, counts: run.counts), tasks: tasks)
        guard case .object(var fields) = workflow else { return workflow }
        fields.insert(("run", object(run)), at: 1)
        fields.append(("more_tasks", .bool(more)))
        if let next { fields.append(("next", .string(next))) }
        return .object(fields)
    }
}
