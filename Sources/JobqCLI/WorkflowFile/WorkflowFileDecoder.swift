import Foundation
import JobqCore

/// Turns the document tree into entries; every error carries a line.
struct WorkflowFileDecoder {
    let name: String
    let limits: Limits
    let overrides: WorkflowFile.Overrides
    /// This file's absolute path (`nil`: stdin, whose sub-workflows are found from the current
    /// directory), and the files that include it as a sub-workflow.
    var path: String? = nil
    var including: [String] = []

    static let topKeys = ["workflow", "defaults", "tasks", "window", "deadline", "fail_fast", "output", "schedule"]
    static let scheduleKeys = ["name", "cron", "tz", "every", "overlap", "catch_up"]
    static let taskKeys = ["id", "handler", "title", "payload", "queue", "after", "retries", "max_attempts", "timeout", "delay", "backoff", "keep", "skip_if", "run_if", "critical", "workflow", "cache_key", "expires", "max_snoozes", "concurrency_key", "concurrency_limit", "wait_for", "wait_timeout", "on_timeout", "unique_key", "unique_for", "debounce", "throttle", "priority", "rate_key", "rate_limit", "fair_key", "map", "service"]
    /// `map: {over, task, width, window}` and the keys its `task` may have (docs/workflow-files.md, "Map").
    static let mapKeys = ["over", "task", "width", "window"]
    static let mapTaskKeys = ["handler", "title", "payload", "queue", "retries", "max_attempts", "timeout", "backoff", "keep", "expires", "max_snoozes", "concurrency_key", "concurrency_limit", "priority", "rate_key", "rate_limit", "fair_key"]
    static let defaultKeys = ["queue", "retries", "max_attempts", "timeout", "delay", "backoff", "keep", "expires", "max_snoozes", "concurrency_key", "concurrency_limit", "priority", "rate_key", "rate_limit", "fair_key"]
    /// Accepted spellings from jobcontrol and friends.
    static let aliases = ["jobs": "tasks", "dependencies": "after", "requires": "after", "result_ttl": "keep"]

    /// Task settings that can come from `defaults:` or the task itself.
    struct Settings {
        var queue = TaskSpec.defaultQueue
        var maxAttempts = TaskSpec.defaultMaxAttempts
        var timeout = TaskSpec.defaultTimeout
        var delay: Duration = .zero
        var backoff: RetryBackoff = .default
        var keep = TaskSpec.defaultResultTTL
        var expires: Deadline?
        var maxSnoozes = TaskSpec.defaultMaxSnoozes
        var priority = TaskSpec.defaultPriority
        /// `concurrency_key` / `concurrency_limit`, with their nodes for error positions; the
        /// pair is checked per task, where the payload the key expands over is known.
        var concurrencyKey: (template: String, node: DocumentNode)?
        var concurrencyLimit: (limit: Int, node: DocumentNode)?
        /// `rate_key` / `rate_limit` (`100/1m`), likewise; a rate without a key limits the queue.
        var rateKey: (template: String, node: DocumentNode)?
        var rateLimit: (rate: RateLimit, node: DocumentNode)?
        /// `fair_key`: claimed in turns with the queue's other keys (``TaskSpec/fairKey``).
        var fairKey: (template: String, node: DocumentNode)?
    }

    mutating func decode(_ root: DocumentNode) throws(DocumentError) -> WorkflowFile {
        let top = try mapping(root, what: "the file", allowed: Self.topKeys)
        var workflow = overrides.workflow
        if workflow == nil, let node = top["workflow"] {
            let id = try name(node, what: "workflow")
            try check(id, as: .workflow, at: node)
            workflow = id
        }
        var settings = Settings()
        if let queue = overrides.queue { settings.queue = queue }
        if let node = top["defaults"] {
            let defaults = try mapping(node, what: "defaults", allowed: Self.defaultKeys)
            try apply(defaults, to: &settings, task: nil)
        }
        guard let tasksNode = top["tasks"] else {
            throw DocumentError(message: "missing `tasks:`, the list of tasks (each with at least `id` and `handler`)", line: root.line, column: root.column)
        }
        guard case .sequence(let items) = tasksNode.value else {
            throw DocumentError(message: "`tasks` must be a list of tasks, not \(tasksNode.kind)", line: tasksNode.line, column: tasksNode.column)
        }
        guard !items.isEmpty else {
            throw DocumentError(message: "`tasks` is empty; add at least one task", line: tasksNode.line, column: tasksNode.column)
        }
        guard items.count <= limits.maxTasksPerSubmission else {
            throw DocumentError(message: "\(items.count) tasks; at most \(limits.maxTasksPerSubmission) in one workflow — split the file", line: tasksNode.line, column: tasksNode.column, code: .tooManyTasks)
        }

        var entries: [WorkflowFile.Entry] = []
        var retvals: [(task: String, id: String, node: DocumentNode)] = []
        var firstLine: [String: Int] = [:]
        var critical: Set<String> = []
        // `- sequence: [task, task, …]` (asynciojobs' Sequence): each task of the list comes
        // after the one before it, besides its own `after`.
        var flat: [(node: DocumentNode, after: String?)] = []
        for item in items {
            guard case .mapping(let pairs) = item.value, pairs.count == 1, pairs[0].key == "sequence" else {
                flat.append((item, nil))
                continue
            }
            guard case .sequence(let chained) = pairs[0].value.value, !chained.isEmpty else {
                throw DocumentError(message: "`sequence` must be a non-empty list of tasks, not \(pairs[0].value.kind)", line: pairs[0].value.line, column: pairs[0].value.column)
            }
            var previous: String?
            for task in chained {
                flat.append((task, previous))
                if case .mapping(let fields) = task.value, let id = fields.first(where: { $0.key == "id" })?.value {
                    switch id.value {
                    case .scalar(.string(let text)), .scalar(.number(let text)): previous = text
                    default: previous = nil
                    }
                }
            }
        }
        for (item, chainedAfter) in flat {
            var (entry, references) = try decodeTask(item, settings: settings)
            if let chainedAfter, !entry.spec.prerequisites.contains(where: { $0.id == chainedAfter }) {
                entry.spec.prerequisites.insert(Prerequisite(chainedAfter), at: 0)
                entry.prerequisiteLines[chainedAfter] = (item.line, item.column)
            }
            if let first = firstLine[entry.id] {
                throw DocumentError(message: "task \"\(entry.id)\" is defined twice (first at line \(first)); task ids must be unique", line: item.line, column: item.column, code: .duplicateID)
            }
            firstLine[entry.id] = item.line
            if case .mapping(let fields) = item.value, let node = fields.first(where: { $0.key == "critical" })?.value {
                guard case .scalar(.bool(let flag)) = node.value else {
                    throw DocumentError(message: "task \"\(entry.id)\": `critical` must be true or false, not \(node.kind)", line: node.line, column: node.column, code: .invalidOption)
                }
                if flag { critical.insert(entry.id) }
            }
            entries.append(entry)
            retvals += references.map { (entry.id, $0.id, $0.node) }
        }

        var file = WorkflowFile(name: name, workflow: workflow, entries: entries)
        file.critical = critical
        if let node = top["window"] {
            let window = try integer(node, what: "window", task: nil)
            guard (1...RunOptions.maxWindow).contains(window) else {
                throw DocumentError(message: "`window` must be from 1 to \(RunOptions.maxWindow) tasks running at once; got \(window)", line: node.line, column: node.column, code: .invalidOption)
            }
            file.window = window
        }
        if let node = top["deadline"] {
            let deadline = try Self.deadline(node, key: "deadline")
            do {
                try RunOptions(definition: "check", deadline: deadline).validate()
            } catch {
                throw DocumentError(message: "`deadline`: \(error.message)", line: node.line, column: node.column, code: .invalidOption)
            }
            file.deadline = deadline
        }
        if let node = top["output"] {
            let key = try name(node, what: "output")
            guard entries.contains(where: { $0.id == key }) else {
                throw DocumentError(message: "`output` names \"\(key)\", which is not a task of this file", line: node.line, column: node.column, code: .invalidOption)
            }
            file.output = key
        }
        if let node = top["schedule"] { file.schedule = try scheduleBlock(node) }
        if let node = top["fail_fast"] {
            guard case .scalar(.bool(let flag)) = node.value else {
                throw DocumentError(message: "`fail_fast` must be true or false, not \(node.kind)", line: node.line, column: node.column, code: .invalidOption)
            }
            file.failFast = flag
        }
        let graph = file.graph
        if let cycle = graph.findCycle() {
            let path = cycle.map { id in firstLine[id].map { "\(id) (line \($0))" } ?? id }
            let line = cycle.first.flatMap { firstLine[$0] }
            throw DocumentError(message: "the dependencies form a cycle: \(path.joined(separator: " -> ")); remove one of these `after` entries", line: line, column: nil, code: .cycle)
        }
        try checkRetvals(retvals, file: file, graph: graph, lines: firstLine)
        return file
    }

    // MARK: Tasks

    /// `template`: the `task` of a map (its payload may hold `!item` / `!index`).
    private func decodeTask(_ node: DocumentNode, settings base: Settings, template: Bool = false) throws(DocumentError) -> (WorkflowFile.Entry, [(id: String, node: DocumentNode)]) {
        let fields = try mapping(node, what: "a task", allowed: Self.taskKeys)
        guard let idNode = fields["id"] else {
            throw DocumentError(message: "task without an `id`; every task of a file needs one, so that others can name it in `after`", line: node.line, column: node.column)
        }
        let id = try name(idNode, what: "id")
        try check(id, as: .taskID, at: idNode)
        func fail(_ message: String, _ at: DocumentNode, _ code: JobqError.Code = .invalidWorkflowFile) -> DocumentError {
            DocumentError(message: "task \"\(id)\": \(message)", line: at.line, column: at.column, code: code)
        }
        var subWorkflow: ChildRunRequest?
        var mapped: (request: MapRequest, references: [(id: String, node: DocumentNode)])?
        let handler: String
        if let mapNode = fields["map"] {
            if let other = fields["handler"] ?? fields["workflow"] {
                throw fail("give `map` (one task per element of a list) or `\(fields["handler"] != nil ? "handler" : "workflow")`, not both; the map's `task` names the handler", other, .invalidMap)
            }
            if let payloadNode = fields["payload"] { throw fail("a map takes no `payload`; give it to its `task` (with !item for the element)", payloadNode, .invalidMap) }
            mapped = try decodeMap(mapNode, settings: base, task: id)
            handler = MapRequest.handlerName
        } else if let workflowNode = fields["workflow"] {
            guard fields["handler"] == nil else { throw fail("give `handler` (a task) or `workflow` (a sub-workflow), not both", workflowNode) }
            guard fields["payload"] == nil else { throw fail("a sub-workflow takes no `payload`; its tasks carry their own", workflowNode) }
            subWorkflow = try loadSubWorkflow(workflowNode, task: id)
            handler = ChildRunRequest.handlerName
        } else {
            guard let handlerNode = fields["handler"] else {
                throw fail("missing `handler`, the name a worker registered the code under (e.g. jobq.echo), or `workflow`, a sub-workflow file", node)
            }
            handler = try name(handlerNode, what: "handler")
            try check(handler, as: .handler, at: handlerNode, task: id)
            guard handler != ChildRunRequest.handlerName else { throw fail("\(handler) is the built-in handler of sub-workflows; write `workflow: FILE` instead", handlerNode) }
            guard handler != MapRequest.handlerName else { throw fail("\(handler) is the built-in handler of maps; write `map: {over: …, task: {…}}` instead", handlerNode, .invalidMap) }
        }

        var settings = base
        try apply(fields, to: &settings, task: id)

        var title = ""
        if let titleNode = fields["title"] { title = try string(titleNode, what: "title", task: id) }

        var payload = JSONValue.null
        var references: [(id: String, node: DocumentNode)] = []
        if let payloadNode = fields["payload"] {
            payload = payloadNode.json()
            references = payloadNode.retvals()
        }
        if !template, MapRequest.hasPlaceholder(payload.bytes), let payloadNode = fields["payload"] {
            throw fail("!item and !index stand for a map's element; they belong in `map: {task: {payload: …}}`", payloadNode, .invalidMap)
        }

        var prerequisites: [Prerequisite] = []
        var prerequisiteLines: [String: (line: Int, column: Int)] = [:]
        if let afterNode = fields["after"] {
            let items: [DocumentNode]
            switch afterNode.value {
            case .sequence(let list): items = list
            case .scalar(.string), .mapping: items = [afterNode]
            default: throw fail("`after` must be a list of task ids (or {id: x, policy: always}), not \(afterNode.kind)", afterNode)
            }
            for item in items {
                let prerequisite: Prerequisite
                switch item.value {
                case .mapping:
                    let edge = try mapping(item, what: "an `after` entry", allowed: ["id", "policy"], task: id)
                    guard let edgeID = edge["id"] else { throw fail("an `after` entry needs `id`", item) }
                    let prerequisiteID = try name(edgeID, what: "after.id", task: id)
                    var policy = DependencyPolicy.success
                    if let policyNode = edge["policy"] {
                        let text = try string(policyNode, what: "policy", task: id)
                        guard let parsed = DependencyPolicy(rawValue: text) else {
                            throw fail("unknown policy \"\(text)\"; use `success` (the default: run only if it succeeded), `always` (run once it has ended, whatever the outcome) or `failure` (run only if it failed)", policyNode)
                        }
                        policy = parsed
                    }
                    prerequisite = Prerequisite(prerequisiteID, policy: policy)
                default:
                    // `fetch:always` / `deploy:failure`: the shorthand `--after` takes too
                    // (':' is never part of a task id)
                    let text = try name(item, what: "after", task: id)
                    let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                    guard parts.count == 2 else {
                        prerequisite = Prerequisite(text)
                        break
                    }
                    guard let policy = DependencyPolicy(rawValue: parts[1]) else {
                        throw fail("unknown policy \"\(parts[1])\" in \"\(text)\"; use ID (run only if it succeeded), ID:always (run once it has ended, whatever the outcome) or ID:failure (run only if it failed)", item)
                    }
                    prerequisite = Prerequisite(parts[0], policy: policy)
                }
                do {
                    try Validation.check(taskID: prerequisite.id) // a key of this file, or RUN/TASK outside it
                } catch {
                    throw self.error(error.message, at: item, task: id, code: error.code)
                }
                guard prerequisite.id != id else { throw fail("it cannot come `after` itself", item, .cycle) }
                guard prerequisiteLines[prerequisite.id] == nil else {
                    throw fail("\"\(prerequisite.id)\" is listed twice in `after`", item, .duplicatePrerequisite)
                }
                prerequisiteLines[prerequisite.id] = (item.line, item.column)
                prerequisites.append(prerequisite)
            }
        }

        // skip_if / run_if: at most one, over this task's prerequisites (docs/workflow-files.md).
        var precondition: Precondition?
        if fields["skip_if"] != nil && fields["run_if"] != nil {
            throw fail("give `skip_if` or `run_if`, not both (run_if: X is skip_if: not X)", fields["run_if"] ?? node, .invalidPrecondition)
        }
        for mode in Precondition.Mode.allCases {
            guard let conditionNode = fields[mode.rawValue] else { continue }
            do {
                precondition = try Precondition.parse(conditionNode.json(), mode: mode, prerequisites: prerequisites.map(\.id))
            } catch {
                throw fail(error.message, conditionNode, error.code)
            }
        }

        // cache_key: a template over the handler, payload and prerequisites' results.
        var cacheKey: CacheKey?
        if let keyNode = fields["cache_key"] {
            let template = try string(keyNode, what: "cache_key", task: id)
            do {
                let key = try CacheKey(template)
                try key.validate(prerequisites: prerequisites.map(\.id))
                cacheKey = key
            } catch {
                throw fail(error.message, keyNode, error.code)
            }
        }

        let waitFor = try declaredWait(fields, task: id)

        var spec = TaskSpec(
            id: id, handler: handler, queue: settings.queue, payload: payload.bytes, prerequisites: prerequisites,
            maxAttempts: settings.maxAttempts, backoff: settings.backoff, timeout: settings.timeout, delay: settings.delay,
            resultTTL: settings.keep, title: title, precondition: precondition, cacheKey: cacheKey,
            expires: settings.expires, maxSnoozes: settings.maxSnoozes,
            concurrency: try concurrency(settings, payload: payload.bytes, task: id, template: template)
        )
        spec.waitFor = waitFor
        spec.uniqueness = try uniqueness(fields, task: id)
        spec.priority = settings.priority
        spec.rate = try rate(settings, payload: payload.bytes, queue: settings.queue, task: id, template: template)
        if let fair = settings.fairKey {
            do { _ = try FairKey.expand(fair.template, payload: payload.bytes, deferringElements: template) } catch { throw self.error(error.message, at: fair.node, task: id, code: error.code) }
            spec.fairKey = fair.template
        }
        if let mapped {
            do { spec.payload = try mapped.request.encoded() } catch { throw fail(error.message, node, error.code) }
            if fields["timeout"] == nil { spec.timeout = ChildRunRequest.startTimeout }
            references += mapped.references
        }
        if let node = fields["service"] {
            guard case .scalar(.bool(let flag)) = node.value else {
                throw fail("`service` must be true or false, not \(node.kind)", node, .invalidOption)
            }
            spec.service = flag
        }
        if let subWorkflow {
            do { spec.payload = try subWorkflow.encoded() } catch { throw fail(error.message, node, error.code) }
            if fields["timeout"] == nil { spec.timeout = ChildRunRequest.startTimeout }
        }
        do {
            try spec.validate(limits: limits, mapTemplate: template)
        } catch {
            let at = error.code == .invalidPayload || error.code == .payloadTooLarge ? (fields["payload"] ?? node) : node
            throw fail(error.message, at, error.code)
        }
        return (WorkflowFile.Entry(spec: spec, line: node.line, prerequisiteLines: prerequisiteLines), references)
    }

    /// `map: {over: !retval x | [list], task: {handler, payload, …}, width: N, window: W}`: the
    /// template is read as a task of this file (with `defaults:`), its payload may hold `!item`
    /// and `!index`; the `!retval` references of `over` and of the template must name
    /// prerequisites of the mapped task (checked with the others).
    private func decodeMap(_ node: DocumentNode, settings: Settings, task: String) throws(DocumentError) -> (request: MapRequest, references: [(id: String, node: DocumentNode)]) {
        let fields = try mapping(node, what: "map", allowed: Self.mapKeys, task: task)
        func fail(_ message: String, _ at: DocumentNode) -> DocumentError {
            error(message, at: at, task: task, code: .invalidMap)
        }
        guard let overNode = fields["over"] else {
            throw fail("`map` needs `over`: the list to map over, `!retval TASK` (a task whose result is a list) or a literal list", node)
        }
        switch overNode.value {
        case .retval, .sequence: break
        default: throw fail("`map.over` must be `!retval TASK` or a list, not \(overNode.kind)", overNode)
        }
        guard let templateNode = fields["task"] else {
            throw fail("`map` needs `task`: the task each element runs, e.g. {handler: resize, payload: {file: !item}}", node)
        }
        guard case .mapping(let pairs) = templateNode.value else { throw fail("`map.task` must be a mapping with at least `handler`, not \(templateNode.kind)", templateNode) }
        _ = try mapping(templateNode, what: "map.task", allowed: Self.mapTaskKeys, task: task)
        guard pairs.contains(where: { $0.key == "handler" }) else {
            throw fail("`map.task` needs a `handler`, the name a worker registered the code under", templateNode)
        }
        let keyNode = DocumentNode(value: .scalar(.string("id")), line: templateNode.line, column: templateNode.column)
        let idNode = DocumentNode(value: .scalar(.string(task)), line: templateNode.line, column: templateNode.column)
        let withID = DocumentNode(value: .mapping([("id", keyNode, idNode)] + pairs), line: templateNode.line, column: templateNode.column)
        let (template, templateReferences) = try decodeTask(withID, settings: settings, template: true)
        var width = MapRequest.defaultWidth
        if let widthNode = fields["width"] {
            width = try integer(widthNode, what: "map.width", task: task)
            guard (1...MapRequest.maxWidth).contains(width) else { throw fail("`map.width` must be from 1 to \(MapRequest.maxWidth) children; got \(width)", widthNode) }
        }
        var window: Int?
        if let windowNode = fields["window"] {
            let value = try integer(windowNode, what: "map.window", task: task)
            guard (1...RunOptions.maxWindow).contains(value) else {
                throw fail("`map.window` must be from 1 to \(RunOptions.maxWindow) children running at once; got \(value)", windowNode)
            }
            window = value
        }
        do {
            let request = try MapRequest(over: overNode.json().bytes, task: template.spec, width: width, window: window)
            return (request, overNode.retvals() + templateReferences)
        } catch {
            throw fail(error.message, node)
        }
    }

    /// `workflow: other.yaml` on a task: the file (relative to this one), checked as a whole, as
    /// the child definition; a file that includes itself, directly or not, is refused.
    private func loadSubWorkflow(_ node: DocumentNode, task: String) throws(DocumentError) -> ChildRunRequest {
        let relative = try string(node, what: "workflow", task: task)
        let target = WorkflowFile.absolute(relative, relativeTo: path)
        let chain = including + (path.map { [$0] } ?? [])
        if chain.contains(target) {
            let names = (chain + [target]).map { URL(fileURLWithPath: $0).lastPathComponent }
            throw error("the sub-workflow \(relative) includes itself: \(names.joined(separator: " -> "))", at: node, task: task, code: .workflowCycle)
        }
        let child: WorkflowFile
        do {
            child = try WorkflowFile.load(path: target, limits: limits, including: chain)
        } catch {
            throw self.error("sub-workflow \(relative): \(error.message)", at: node, task: task, code: error.code)
        }
        do {
            var request = try ChildRunRequest(
                definition: child.workflow ?? SubmitCommand.definitionName(path: target), tasks: child.entries.map(\.spec),
                window: child.window, failFast: child.failFast, critical: child.critical, output: child.output
            )
            if case .after(let duration)? = child.deadline { request.deadlineMs = duration.inMilliseconds }
            return request
        } catch {
            throw self.error("sub-workflow \(relative): \(error.message)", at: node, task: task, code: error.code)
        }
    }

    /// The task's concurrency limit: `concurrency_key` and `concurrency_limit` come together (from
    /// the task or `defaults:`); the key must expand over this task's payload (a map's `template`:
    /// paths inside `!item` / `!index` are checked per child, when the map expands).
    private func concurrency(_ settings: Settings, payload: [UInt8], task: String, template: Bool) throws(DocumentError) -> ConcurrencyLimit? {
        switch (settings.concurrencyKey, settings.concurrencyLimit) {
        case (nil, nil):
            return nil
        case (let key?, nil):
            throw error("`concurrency_key` needs a `concurrency_limit` (how many of its tasks may run at once; 1 runs them one at a time, in order)", at: key.node, task: task, code: .invalidOption)
        case (nil, let limit?):
            throw error("`concurrency_limit` needs a `concurrency_key` (which tasks it counts together)", at: limit.node, task: task, code: .invalidOption)
        case (let key?, let limit?):
            let value = ConcurrencyLimit(key: key.template, limit: limit.limit)
            do {
                try value.validate(payload: payload, deferringElements: template)
            } catch {
                // a limit out of range is the limit's fault; anything else (the expansion) the key's
                throw self.error(error.message, at: error.message.hasPrefix("concurrency_limit") ? limit.node : key.node, task: task, code: error.code)
            }
            return value
        }
    }

    /// The task's rate limit: `rate_limit` (`100/1m`) with an optional `rate_key` (from the task
    /// or `defaults:`; without one, the queue is the key); the key must expand over the payload.
    private func rate(_ settings: Settings, payload: [UInt8], queue: String, task: String, template: Bool) throws(DocumentError) -> RateLimit? {
        guard let limit = settings.rateLimit else {
            if let key = settings.rateKey {
                throw error("`rate_key` needs a `rate_limit` (N/DURATION: how many of its tasks may start per interval, e.g. 100/1m)", at: key.node, task: task, code: .invalidOption)
            }
            return nil
        }
        var value = limit.rate
        value.key = settings.rateKey?.template
        do {
            try value.validate(payload: payload, queue: queue, deferringElements: template)
        } catch {
            throw self.error(error.message, at: error.message.hasPrefix("rate_limit") ? limit.node : (settings.rateKey?.node ?? limit.node), task: task, code: error.code)
        }
        return value
    }

    /// `unique_key` with one of `unique_for` (until_started, until_finished, a duration) or
    /// `throttle`; a `debounce` is refused here, with its line: a file is a run, and a debounce
    /// replaces one standalone task's payload (`jobq submit HANDLER --debounce D`).
    private func uniqueness(_ fields: [String: DocumentNode], task: String) throws(DocumentError) -> Uniqueness? {
        if let node = fields["debounce"] {
            throw error("`debounce` applies to one standalone task (jobq submit HANDLER --unique-key K --debounce D); in a workflow file use `unique_key` with `unique_for: until_started`", at: node, task: task, code: .invalidOption)
        }
        let parts = ["unique_key", "unique_for", "throttle"].map { fields[$0] }
        guard let at = parts.compactMap({ $0 }).first else { return nil }
        var text: [String?] = []
        for (node, what) in zip(parts, ["unique_key", "unique_for", "throttle"]) {
            guard let node else {
                text.append(nil)
                continue
            }
            switch node.value {
            case .scalar(.string(let value)), .scalar(.number(let value)): text.append(value)
            default: throw error("`\(what)` must be text or a duration, not \(node.kind)", at: node, task: task, code: .invalidOption)
            }
        }
        do {
            return try Uniqueness.parse(key: text[0], scope: text[1], debounce: nil, throttle: text[2], spelling: .file)
        } catch {
            throw self.error(error.message, at: fields["unique_for"] ?? fields["throttle"] ?? at, task: task, code: error.code)
        }
    }

    /// `schedule: {cron | every, tz, overlap, catch_up, name}`, checked as `jobq schedule add`
    /// checks its flags (the same codes: `invalid_schedule` for the timing, `invalid_option` for a
    /// policy, `invalid_name`), so a file that reads is a schedule that adds.
    private func scheduleBlock(_ node: DocumentNode) throws(DocumentError) -> WorkflowFile.ScheduleBlock {
        let fields = try mapping(node, what: "schedule", allowed: Self.scheduleKeys)
        var block = WorkflowFile.ScheduleBlock(line: node.line)
        if let at = fields["name"] {
            let value = try name(at, what: "schedule name")
            do { try Schedule.validate(name: value) } catch { throw self.error("`schedule.name`: \(error.message)", at: at, task: nil, code: error.code) }
            block.name = value
        }
        if let at = fields["cron"] { block.cron = try string(at, what: "schedule.cron") }
        if let at = fields["tz"] { block.tz = try string(at, what: "schedule.tz") }
        if let at = fields["every"] {
            let text: String
            switch at.value {
            case .scalar(.string(let value)), .scalar(.number(let value)): text = value
            default: throw error("`schedule.every` must be a duration (\(DurationText.grammar)), not \(at.kind)", at: at, task: nil, code: .invalidSchedule)
            }
            guard let every = DurationText.parse(text) else {
                throw error("`schedule.every` \"\(text)\" is not a duration: use \(DurationText.grammar)", at: at, task: nil, code: .invalidSchedule)
            }
            block.every = every
        }
        if block.cron != nil, let at = fields["every"] {
            throw error("`schedule:` gives `cron` and `every`; give one", at: at, task: nil, code: .invalidSchedule)
        }
        if block.cron == nil, let at = fields["tz"] {
            throw error("`schedule.tz` goes with `cron`; `every` counts real time", at: at, task: nil, code: .invalidSchedule)
        }
        let rule: Schedule.Rule? = block.cron.map { .cron($0, timeZone: block.tz) } ?? block.every.map { .every($0) }
        if let rule {
            do {
                _ = try rule.timing(now: Int64(Date().timeIntervalSince1970 * 1000))
            } catch {
                throw self.error("`schedule`: \(error.message)", at: fields["cron"] ?? fields["every"] ?? node, task: nil, code: error.code)
            }
        }
        if let at = fields["overlap"] {
            let word = try string(at, what: "schedule.overlap")
            guard let policy = Schedule.Overlap(rawValue: word) else {
                throw error("`schedule.overlap` \"\(word)\": use skip, allow, cancel or buffer", at: at, task: nil, code: .invalidOption)
            }
            block.overlap = policy
        }
        if let at = fields["catch_up"] {
            let word = try string(at, what: "schedule.catch_up")
            guard let policy = Schedule.CatchUp(rawValue: word) else {
                throw error("`schedule.catch_up` \"\(word)\": use none, latest or all", at: at, task: nil, code: .invalidOption)
            }
            block.catchUp = policy
        }
        return block
    }

    /// `wait_for: NAME` with `wait_timeout: D` and `on_timeout: fail|skip|run` (the latter two
    /// only with the first).
    private func declaredWait(_ fields: [String: DocumentNode], task: String?) throws(DocumentError) -> DeclaredWait? {
        guard let node = fields["wait_for"] else {
            if let stray = fields["wait_timeout"] ?? fields["on_timeout"] {
                throw error("`wait_timeout` and `on_timeout` go with `wait_for: NAME`", at: stray, task: task, code: .invalidOption)
            }
            return nil
        }
        let name = try string(node, what: "wait_for", task: task)
        try check(name, as: .signal, at: node, task: task)
        var wait = DeclaredWait(name)
        if let timeout = fields["wait_timeout"] { wait.timeout = try duration(timeout, what: "wait_timeout", task: task) }
        if let action = fields["on_timeout"] {
            let word = try string(action, what: "on_timeout", task: task)
            guard let parsed = DeclaredWait.OnTimeout(rawValue: word) else {
                throw error("`on_timeout` must be fail, skip or run; got \(word)", at: action, task: task, code: .invalidOption)
            }
            wait.onTimeout = parsed
        }
        return wait
    }

    private func apply(_ fields: [String: DocumentNode], to settings: inout Settings, task: String?) throws(DocumentError) {
        if let node = fields["concurrency_key"] { settings.concurrencyKey = (try string(node, what: "concurrency_key", task: task), node) }
        if let node = fields["concurrency_limit"] { settings.concurrencyLimit = (try integer(node, what: "concurrency_limit", task: task), node) }
        if let node = fields["rate_key"] { settings.rateKey = (try string(node, what: "rate_key", task: task), node) }
        if let node = fields["fair_key"] { settings.fairKey = (try string(node, what: "fair_key", task: task), node) }
        if let node = fields["rate_limit"] {
            let text = try string(node, what: "rate_limit", task: task)
            do { settings.rateLimit = (try RateLimit(parsing: text), node) } catch { throw self.error(error.message, at: node, task: task, code: error.code) }
        }
        if let node = fields["queue"] {
            let queue = try name(node, what: "queue", task: task)
            try check(queue, as: .queue, at: node, task: task)
            settings.queue = queue
        }
        if let retries = fields["retries"], let attempts = fields["max_attempts"] {
            _ = attempts
            throw error("give either `retries` (re-runs after a failure) or `max_attempts` (total runs), not both", at: retries, task: task)
        }
        if let node = fields["retries"] {
            let retries = try integer(node, what: "retries", task: task)
            guard retries >= 0, retries < limits.attempts.upperBound else {
                throw error("`retries` must be from 0 to \(limits.attempts.upperBound - 1); got \(retries)", at: node, task: task, code: .invalidOption)
            }
            settings.maxAttempts = retries + 1
        }
        if let node = fields["max_attempts"] {
            settings.maxAttempts = try integer(node, what: "max_attempts", task: task)
        }
        if let node = fields["max_snoozes"] {
            let snoozes = try integer(node, what: "max_snoozes", task: task)
            guard limits.snoozes.contains(snoozes) else {
                throw error("`max_snoozes` must be from \(limits.snoozes.lowerBound) to \(limits.snoozes.upperBound); got \(snoozes)", at: node, task: task, code: .invalidOption)
            }
            settings.maxSnoozes = snoozes
        }
        if let node = fields["priority"] {
            let range = TaskSpec.priorities
            guard case .scalar(.number(let text)) = node.value, let priority = Int(text), range.contains(priority) else {
                var given = node.kind
                if case .scalar(.number(let text)) = node.value { given = text }
                throw error("`priority` must be a whole number from \(range.lowerBound) to \(range.upperBound) (higher first); got \(given)", at: node, task: task, code: .invalidOption)
            }
            settings.priority = priority
        }
        if let node = fields["timeout"] { settings.timeout = try duration(node, what: "timeout", task: task) }
        if let node = fields["delay"] { settings.delay = try duration(node, what: "delay", task: task) }
        if let node = fields["keep"] { settings.keep = try duration(node, what: "keep", task: task) }
        if let node = fields["expires"] {
            let expires = try Self.deadline(node, key: "expires", task: task)
            do {
                try expires.validate("`expires`", maximum: TaskSpec.maxExpiry)
            } catch {
                throw self.error(error.message, at: node, task: task, code: .invalidOption)
            }
            settings.expires = expires
        }
        if let node = fields["backoff"] {
            let text = try string(node, what: "backoff", task: task)
            guard let backoff = BackoffText.parse(text) else {
                throw error("`backoff` \"\(text)\" is not \(BackoffText.grammar)", at: node, task: task, code: .invalidOption)
            }
            settings.backoff = backoff
        }
    }

    // MARK: References

    /// Each `!retval x` must name a task whose result exists before this one runs: a task of the
    /// file this one (transitively) comes after, or a task outside the file that it, or one of
    /// those, names in `after`.
    private func checkRetvals(_ references: [(task: String, id: String, node: DocumentNode)], file: WorkflowFile, graph: DependencyGraph, lines: [String: Int]) throws(DocumentError) {
        guard !references.isEmpty else { return }
        let byID = Dictionary(file.entries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var ancestorsCache: [String: Set<String>] = [:]
        func ancestors(of id: String) -> Set<String> {
            if let cached = ancestorsCache[id] { return cached }
            var seen = Set<String>()
            var stack = [id]
            while let current = stack.popLast() {
                for prerequisite in byID[current]?.spec.prerequisites ?? [] where seen.insert(prerequisite.id).inserted {
                    stack.append(prerequisite.id)
                }
            }
            ancestorsCache[id] = seen
            return seen
        }
        for reference in references {
            try check(reference.id, as: .taskID, at: reference.node, task: reference.task)
            guard !ancestors(of: reference.task).contains(reference.id) else { continue }
            let hint: String
            if reference.id == reference.task {
                hint = "a task cannot use its own result"
            } else if byID[reference.id] != nil {
                hint = "add \"\(reference.id)\" to its `after` list (directly or through another task) so that its result exists when this task runs"
            } else {
                hint = "no task \"\(reference.id)\" in this file\(suggestion(reference.id, among: Array(byID.keys))); a task outside the file must be listed in `after`"
            }
            throw DocumentError(
                message: "task \"\(reference.task)\": !retval \(reference.id) does not name a prerequisite; \(hint)",
                line: reference.node.line, column: reference.node.column, code: .invalidReference
            )
        }
    }

    // MARK: Typed reads

    private func error(_ message: String, at node: DocumentNode, task: String?, code: JobqError.Code = .invalidWorkflowFile) -> DocumentError {
        DocumentError(message: (task.map { "task \"\($0)\": " } ?? "") + message, line: node.line, column: node.column, code: code)
    }

    /// The node as a mapping keyed by name; unknown keys are errors with a suggestion.
    private func mapping(_ node: DocumentNode, what: String, allowed: [String], task: String? = nil) throws(DocumentError) -> [String: DocumentNode] {
        guard case .mapping(let pairs) = node.value else {
            throw error("\(what) must be a mapping (key: value lines), not \(node.kind)", at: node, task: task)
        }
        var fields: [String: DocumentNode] = [:]
        for pair in pairs {
            let key = Self.aliases[pair.key].flatMap { allowed.contains($0) ? $0 : nil } ?? pair.key
            guard allowed.contains(key) else {
                throw error("unknown key \"\(pair.key)\" in \(what)\(suggestion(pair.key, among: allowed)) (known: \(allowed.joined(separator: ", ")))", at: pair.keyNode, task: task)
            }
            guard fields[key] == nil else {
                throw error("\"\(pair.key)\" given twice in \(what) (\(key) and an alias of it)", at: pair.keyNode, task: task)
            }
            fields[key] = pair.value
        }
        return fields
    }

    private func string(_ node: DocumentNode, what: String, task: String? = nil) throws(DocumentError) -> String {
        guard case .scalar(.string(let text)) = node.value else {
            throw error("`\(what)` must be a string, not \(node.kind)", at: node, task: task)
        }
        return text
    }

    /// A name: a string, or a number written without quotes (`id: 1`).
    private func name(_ node: DocumentNode, what: String, task: String? = nil) throws(DocumentError) -> String {
        switch node.value {
        case .scalar(.string(let text)), .scalar(.number(let text)): return text
        default: throw error("`\(what)` must be a name (letters, digits, '.', '_', '-'), not \(node.kind)", at: node, task: task)
        }
    }

    private func integer(_ node: DocumentNode, what: String, task: String?) throws(DocumentError) -> Int {
        guard case .scalar(.number(let text)) = node.value, let value = Int(text) else {
            throw error("`\(what)` must be a whole number, not \(node.kind)", at: node, task: task)
        }
        return value
    }

    /// `deadline: 30m` / `expires: 10m` (after the submission, on Redis's clock) or an ISO 8601
    /// time (`2026-12-02T06:00:00Z`); an unparsable one is refused here, with its place (the
    /// caller checks the range: a run's deadline, a task's expiry).
    static func deadline(_ node: DocumentNode, key: String, task: String? = nil) throws(DocumentError) -> Deadline {
        let prefix = task.map { "task \"\($0)\": " } ?? ""
        let text: String
        switch node.value {
        case .scalar(.string(let value)), .scalar(.number(let value)): text = value
        default: throw DocumentError(message: prefix + "`\(key)` must be a duration (30m) or a time (2026-12-02T06:00:00Z), not \(node.kind)", line: node.line, column: node.column, code: .invalidOption)
        }
        guard let deadline = DurationText.deadline(text) else {
            throw DocumentError(message: prefix + "`\(key)` \"\(text)\" is neither \(DurationText.deadlineGrammar)", line: node.line, column: node.column, code: .invalidOption)
        }
        return deadline
    }

    private func duration(_ node: DocumentNode, what: String, task: String?) throws(DocumentError) -> Duration {
        let text: String
        switch node.value {
        case .scalar(.string(let value)), .scalar(.number(let value)): text = value
        default: throw error("`\(what)` must be a duration (\(DurationText.grammar)), not \(node.kind)", at: node, task: task)
        }
        guard let duration = DurationText.parse(text) else {
            throw error("`\(what)` \"\(text)\" is not a duration: use \(DurationText.grammar)", at: node, task: task, code: .invalidOption)
        }
        return duration
    }

    private func check(_ value: String, as kind: Validation.NameKind, at node: DocumentNode, task: String? = nil) throws(DocumentError) {
        do {
            try Validation.check(name: value, as: kind)
        } catch {
            throw self.error(error.message, at: node, task: task, code: error.code)
        }
    }

    private func suggestion(_ word: String, among candidates: [String]) -> String {
        Suggestion.closest(to: word, among: candidates).map { "; did you mean \"\($0)\"?" } ?? ""
    }
}
