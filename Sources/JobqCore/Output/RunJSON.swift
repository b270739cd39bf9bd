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
}
