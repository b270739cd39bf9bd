import Jobq
import JobqCore

/// What a command is pointed at: one task, or a workflow.
enum Target: Sendable, Hashable {
    case task(String)
    case workflow(String)

    var name: String {
        switch self {
        case .task(let id), .workflow(let id): id
        }
    }

    /// A name that may be a task id (`ID`, or `RUN/TASK` for a task of a run) or a run or
    /// workflow id: the task wins when both exist.
    static func resolve(_ name: String, client: JobqClient, workflowOnly: Bool = false) async throws(JobqError) -> Target {
        if !workflowOnly {
            try Validation.check(taskID: name)
            if try await client.task(name) != nil { return .task(name) }
            if let (run, key) = RunScope.split(name) {
                let inRun = try await client.workflowExists(run)
                throw JobqError(
                    .notFound,
                    inRun ? "run \(run) has no task \(key); list its tasks with: jobq status \(run)"
                        : "no task \(name): there is no run \(run) (never submitted, or its retention expired); list runs with: jobq runs",
                    subject: name
                )
            }
        }
        try Validation.check(name: name, as: .workflow)
        if try await client.workflowExists(name) { return .workflow(name) }
        throw JobqError(
            .notFound,
            workflowOnly
                ? "no run or workflow \(name) (never submitted, or its tasks' retention expired); list runs with: jobq runs"
                : "no task, run or workflow \(name) (never submitted, or its retention expired); see what exists with: jobq runs, jobq list",
            subject: name
        )
    }
}

/// The tasks of a target at one moment, with the progress of the running ones.
struct Snapshot: Sendable {
    let target: Target
    let tasks: [TaskInfo]
    let progress: [String: [ProgressEntry]]
    /// States by id, for the tasks of the snapshot (to say what a pending task waits for).
    let states: [String: TaskState]
    /// The run record, when the target is a run (its state, definition and times).
    var run: RunInfo? = nil
    /// Redis's clock when the snapshot was read (`run_after` is in Redis milliseconds, so the
    /// time left is measured against it, not against this machine's clock); read only when a
    /// task waits for a time.
    var serverNow: Int64? = nil
    /// The concurrency keys of the PENDING tasks, by key: how full each is, so that a task held
    /// back at its limit says so instead of "queued".
    var limits: [String: LimitUsage] = [:]
    /// The rate keys of the PENDING tasks, by key: so that a task held back by its rate (or a
    /// pause) says "rate limited until …".
    var rates: [String: RateUsage] = [:]
    /// The child runs PENDING tasks wait for (a sub-workflow, a map, spawned children), by id: how
    /// far they are (at most ``childRunsRead`` read per snapshot).
    var childRuns: [String: RunInfo] = [:]
    static let childRunsRead = 100

    var summary: StateCounts { StateCounts(name: target.name, states: tasks.map(\.state)) }

    /// Every task has ended; for a run, the run has (its record is read before its tasks, so
    /// the tasks shown are at least as new as the run's state).
    var isFinished: Bool {
        if let run { return run.state.isTerminal && tasks.allSatisfy { $0.state?.isTerminal == true } }
        return !tasks.isEmpty && tasks.allSatisfy { $0.state?.isTerminal == true }
    }
    var anyRunning: Bool { tasks.contains { $0.state == .running } }

    /// The exit status once finished: `.ok` when every task is DONE.
    var outcome: ExitStatus {
        if let run { return run.state == .done ? .ok : .taskFailed }
        return tasks.allSatisfy { $0.state?.isSuccessLike == true } ? .ok : .taskFailed
    }

    var ids: Set<String> { Set(tasks.map(\.id)) }

    static func load(_ target: Target, client: JobqClient) async throws(JobqError) -> Snapshot {
                let ids: [String]
        switch target {
        case .task(let id): ids = [id]
        case .workflow(let workflow): ids = try await client.taskIDs(inWorkflow: workflow)
        }
        var run: RunInfo?
        if case .workflow(let id) = target { run = try await client.engine.tasks.run(id) }
        var tasks = try await client.tasks(ids).compactMap { $0 }
        if run != nil { tasks = Self.topological(tasks) }
        guard !tasks.isEmpty else {
            throw JobqError(.notFound, "no task or workflow \(target.name) (its retention may have expired)", subject: target.name)
        }
        // Progress of the running tasks, read concurrently (the client pipelines the reads).
        var progress: [String: [ProgressEntry]] = [:]
        let running = tasks.filter { $0.state == .running }.map(\.id)
        do {
            progress = try await withThrowingTaskGroup(of: (String, [ProgressEntry]).self) { group in
                for id in running {
                    group.addTask { (id, try await client.progress(of: id)) }
                }
                var collected: [String: [ProgressEntry]] = [:]
                for try await (id, entries) in group { collected[id] = entries }
                return collected
            }
        } catch {
            throw JobqError(translating: error, doing: "read progress", isWrite: false)
        }
        var states: [String: TaskState] = [:]
        for task in tasks { if let state = task.state { states[task.id] = state } }
        let outside = Set(tasks.flatMap { $0.prerequisites.map(\.id) }).subtracting(states.keys).sorted()
        if !outside.isEmpty {
            for (id, state) in zip(outside, try await client.states(of: outside)) {
                if let state { states[id] = state }
            }
        }
        let waitsForTime = tasks.contains { $0.state == .pending && $0.runAfter != nil }
        let serverNow = waitsForTime ? try await client.serverTime() : nil
        let keys = Set(tasks.filter { $0.state == .pending }.compactMap(\.concurrencyKey)).sorted()
        let limits = Dictionary(uniqueKeysWithValues: try await client.limitUsage(keys).map { ($0.key, $0) })
        var rated: [String: RateLimit] = [:]
        for task in tasks where task.state == .pending { if let rate = task.rate, let key = rate.key { rated[key] = rate } }
        let rates = Dictionary(uniqueKeysWithValues: try await client.rateUsage(rated.keys.sorted(), rates: rated).map { ($0.key, $0) })
        var childRuns: [String: RunInfo] = [:]
        for id in tasks.filter({ $0.state == .pending }).compactMap(\.childRun).prefix(childRunsRead) {
            if let child = try await client.engine.tasks.run(id) { childRuns[id] = child }
        }
        return Snapshot(target: target, tasks: tasks, progress: progress, states: states, run: run, serverNow: serverNow, limits: limits, rates: rates, childRuns: childRuns)
    }

    /// A run's tasks in an order that respects every dependency, submission order among equals
    /// (asynciojobs' `list()`).
    static func topological(_ tasks: [TaskInfo]) -> [TaskInfo] {
        var graph = DependencyGraph()
        for task in tasks { graph.addNode(task.id) }
        let ids = Set(tasks.map(\.id))
        for task in tasks {
            for prerequisite in task.prerequisites where ids.contains(prerequisite.id) {
                graph.addEdge(prerequisite: prerequisite.id, dependent: task.id)
            }
        }
        guard let order = try? graph.topologicalOrder() else { return tasks }
        let byID = Dictionary(tasks.map { ($0.id, $0) }) { first, _ in first }
        return order.compactMap { byID[$0] }
    }

    /// How a task is named in a table: its key within the run, or its id.
    func label(of task: TaskInfo) -> String { name(task.id) }

    /// How an id is named here: its key when it is a task of the snapshot's run, else in full.
    func name(_ id: String) -> String {
        guard let run, RunScope.run(of: id) == run.id else { return id }
        return RunScope.key(of: id)
    }

    // MARK: Text

    /// One short phrase about where a task is: what it waits for, its error, how long it took.
    ///
    /// A PENDING task whose `run_after` is ahead says so ("delayed, runs in 3.0s", "retry 2/5 in
    /// 1.2s"): calling it "queued" made a task waiting for its backoff look stuck.
    /// The state column's word: the state, or CACHED / OUTDATED for a DONE task that took its
    /// result from the cache or whose prerequisite ended again after it (still DONE in `--json`).
    static func stateLabel(of task: TaskInfo) -> String {
        guard let state = task.state else { return "UNKNOWN" }
        if state == .done && task.outdated { return "OUTDATED" }
        if state == .done && task.cached != nil { return "CACHED" }
        return state.rawValue
    }

    /// What a PENDING task waits for: its child run, prerequisites, a time, or a worker.
    private func pendingDetail(of task: TaskInfo, now: Int64) -> String {
        let attempt = task.attempts > 0 ? " (attempt \(task.attempts + 1)/\(task.maxAttempts))" : ""
        if let count = task.mappedCount, let child = task.childRun { return MapProgress.text(count: count, run: childRuns[child], id: child) }
        if let child = task.childRun {
            return childRuns[child].map(ChildrenText.waiting) ?? "waiting for its child run \(child)"
        }
        if let wait = Self.waitText(of: task, now: now) { return wait }
        if task.unresolvedPrerequisites > 0 {
            let waiting = task.prerequisites.filter { prerequisite in
                guard let state = states[prerequisite.id] else { return true }
                return !prerequisite.policy.accepts(state)
            }.map(\.id)
            return "waiting for " + (waiting.isEmpty ? "\(task.unresolvedPrerequisites) prerequisite(s)" : waiting.map(name).joined(separator: ", "))
        }
        if let runAfter = task.runAfter, runAfter > now {
            let due = DurationText.format(milliseconds: runAfter - now)
            if task.reason == "snoozed" { return "snoozed, runs in \(due) (\(Self.snoozeCount(task.snoozes)))" }
            return task.attempts > 0 ? "retry \(task.attempts + 1)/\(task.maxAttempts) in \(due)" : "delayed, runs in \(due)"
        }
        if task.suspectLevel >= 2 { return "quarantined: runs alone on an idle worker (its workers died under it)" + attempt }
        if let held = heldByLimit(task) { return held + attempt }
        if let limited = Self.rateLimited(task, usage: task.rate?.key.flatMap { rates[$0] }, now: now) { return limited + attempt }
        if task.workerDeaths > 0 { return "queued ahead of new work (its worker died)" + attempt }
        return "queued" + attempt
    }

    /// "held by limit tenant-42 (2/2 running)" when the task's key is at the task's limit (it is
    /// parked, or will be when a claim reaches it).
    func heldByLimit(_ task: TaskInfo) -> String? {
        TaskJSON.heldByLimit(task, usage: task.concurrencyKey.flatMap { limits[$0] })
    }


    /// "rate limited until 10:42:07 (api-7, 100/1m)" / "… (api-7 paused by its handler)" when the
    /// task's rate key has no start left in its window or is paused; `nil` otherwise.
    static func rateLimited(_ task: TaskInfo, usage: RateUsage?, now: Int64) -> String? {
        guard task.isRateLimited(usage: usage, now: now), let rate = task.rate, let key = rate.key, let usage else { return nil }
        if let paused = usage.pausedUntil, paused > now {
            return "rate limited until \(DurationText.local(milliseconds: paused)) (\(key) paused by its handler)"
        }
        let until = usage.wakeAt.map { " until " + DurationText.local(milliseconds: max($0, now)) } ?? ""
        return "rate limited\(until) (\(key), \(rate.text))"
    }

    /// "waiting for signal approve (times out in 9m)" / "asks: Overwrite? [yes/no] — jobq answer
    /// ID yes"; `nil` when the task waits for neither.
    static func waitText(of task: TaskInfo, now: Int64) -> String? {
        guard let name = task.waitingFor else { return nil }
        let timeout = task.waitUntil.map { " (times out in \(DurationText.format(milliseconds: max($0 - now, 0))))" } ?? ""
        if let question = task.question, let hint = task.answerHint {
            return "asks: \(question.question) [\(question.choices.joined(separator: "/"))] — \(hint)" + timeout
        }
        return "waiting for signal \(name)" + timeout
    }

    /// "1 snooze", "3 snoozes".
    static func snoozeCount(_ count: Int) -> String { count == 1 ? "1 snooze" : "\(count) snoozes" }

    func detail(of task: TaskInfo, now: Int64? = nil) -> String {
        let text = stateDetail(of: task, now: now)
        // a service task is not waited for: say so, whatever its state
        return task.service ? (text.isEmpty ? "service" : "service; " + text) : text
    }

    private func stateDetail(of task: TaskInfo, now: Int64?) -> String {
        let now = now ?? serverNow ?? DurationText.nowMilliseconds
        switch task.state {
        case .pending:
            // a pending task with an expiry says so whatever it waits for: it may never run
            guard let expiresAt = task.expiresAt, expiresAt > now else { return pendingDetail(of: task, now: now) }
            return pendingDetail(of: task, now: now) + "; expires in " + DurationText.format(milliseconds: expiresAt - now)
        case .running:
            var parts: [String] = []
            if let status = progress[task.id]?.first(where: { $0.group.isEmpty })?.status, !status.isEmpty { parts.append(status) }
            parts.append("attempt \(task.attempts)/\(task.maxAttempts)")
            if let worker = task.worker { parts.append("on \(worker)") }
            if task.cancelRequested { parts.append("cancel requested") }
            return parts.joined(separator: ", ")
        case .done:
            var text = took(task).map { "took " + $0 } ?? "done"
            if let source = task.cached { text = "cached: result of \(source)" }
            if task.outdated { text = "OUTDATED (a prerequisite ended again after it); " + text }
            return text
        case .skipped:
            if task.reason == "condition_unmet", let cause = task.cause { return "skipped: prerequisite \(name(cause)) did not fail" }
            return "skipped: " + firstLine(task.error ?? task.reason ?? "skipped")
        case .failed:
            return firstLine(task.error ?? task.reason ?? "failed")
        case .cancelled:
            if task.reason == "dependency_failed", let cause = task.cause { return "prerequisite \(name(cause)) did not succeed" }
            return firstLine(task.error ?? "cancelled")
        case nil:
            return "unreadable record"
        }
    }

    func took(_ task: TaskInfo) -> String? {
        guard let started = task.started, let finished = task.finished, finished >= started else { return nil }
        return DurationText.format(milliseconds: finished - started)
    }

    private func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// The `--json` form: the workflow shape for both targets (a task is a workflow of one,
    /// named under `task` instead of `workflow`).
    func json() -> JSONValue {
        let tasks = tasks.map { task -> JSONValue in
            guard case .object(var fields) = TaskJSON.summary(task) else { return .null }
            fields.append(("detail", .string(detail(of: task))))
            fields.append(("progress", .array((progress[task.id] ?? []).map(TaskJSON.progress))))
            if let count = task.mappedCount, let child = task.childRun { fields.append(("mapped", MapProgress.json(count: count, run: childRuns[child], id: child))) }
            return .object(fields)
        }
        if case .task = target { return TaskJSON.workflow(summary, tasks: tasks, key: "task") }
        guard let run else { return TaskJSON.workflow(summary, tasks: tasks) }
        return RunJSON.status(run, tasks: tasks, more: false, next: nil) // the dashboard's /api/v1/runs/RUN
    }

    /// Icons per state for the live tree.
    static func icon(_ state: TaskState?, tty: Bool) -> String {
        switch state {
        case .pending: tty ? "·" : "."
        case .running: tty ? "▶" : ">"
        case .done: tty ? "✔" : "+"
        case .skipped: tty ? "↷" : "~"
        case .failed: tty ? "✘" : "x"
        case .cancelled: tty ? "⊘" : "-"
        case nil: "?"
        }
    }

    /// The live view: a summary line, then one row per task with its bar and its sub-groups.
    ///
    /// At most `maxRows` lines: when the workflow is larger, finished tasks are folded into a
    /// "… N more" line first, so running and failed tasks stay visible.
    func treeLines(terminal: Terminal, elapsed: Duration?, maxRows: Int?) -> [String] {
        let width = terminal.isTTY ? terminal.width : 100
        var header = terminal.paint(target.name, .bold) + "  "
            + (run.map { terminal.paint($0.state.rawValue, RunJSON.color(of: $0.state)) + "  " } ?? "")
            + summary.description + " = \(summary.total)"
        if let elapsed { header += "  (" + DurationText.format(elapsed) + ")" }
        var rows: [(task: TaskInfo, lines: [String])] = []
        let idWidth = min(26, max(8, tasks.map { label(of: $0).count }.max() ?? 8))
        for task in tasks {
            let tree = ProgressTree(progress[task.id] ?? [])
            let fraction: Double? = task.state == .done ? 1 : tree.fraction
            var line = terminal.paint(Self.icon(task.state, tty: terminal.isTTY), Terminal.color(of: task.state)) + " "
            line += padded(truncated(label(of: task), to: idWidth), to: idWidth) + " "
            line += padded(terminal.paint(state: task.state), to: 9) + " "
            let showBar = task.state == .running || task.state == .done || fraction != nil
            line += showBar ? ProgressBar.render(fraction: fraction, width: 14, terminal: terminal) + " " + ProgressBar.percent(fraction) + "  "
                : String(repeating: " ", count: 21)
            line += terminal.paint(detail(of: task), task.state == .failed ? .red : .dim)
            var lines = [ProgressBar.clip(line, to: width)]
            if task.state == .running {
                lines += tree.groupLines(indent: "    ", width: width, terminal: terminal)
            }
            rows.append((task, lines))
        }
        var body = rows.flatMap(\.lines)
        if let maxRows, body.count > maxRows - 1 {
            // Keep unfinished and failed tasks; fold the DONE and CANCELLED ones.
            var kept: [String] = []
            var folded = 0
            for row in rows {
                let quiet = row.task.state == .done || row.task.state == .skipped || row.task.state == .cancelled || row.task.state == .pending
                if quiet || kept.count + row.lines.count > maxRows - 2 {
                    folded += 1
                } else {
                    kept += row.lines
                }
            }
            body = kept + [terminal.paint("… \(folded) more task(s) not shown (jobq status \(target.name) lists all)", .dim)]
        }
        return [ProgressBar.clip(header, to: width)] + body
    }
}
