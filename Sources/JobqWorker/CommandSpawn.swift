import Jobq
import JobqCore

/// jobq's own JSON value (`Jobq` exports another type named `JSONValue`).
private typealias JSON = JobqCore.JSONValue

/// A command handler's `JOBQ_SPAWN {json}` line (docs/worker.md, "Spawning children"): the
/// children as the workflow file's JSON shape, a subset of it —
///
///     {"key": "children", "on_child_failure": "fail_parent" | "wake_parent", "output": "join",
///      "tasks": [{"id": "a", "handler": "h", "payload": {...}, "after": ["b"], "queue": "q",
///                 "max_attempts": 3, "title": "…"}]}
///
/// (`key`, `on_child_failure`, `output` and every task field but `id` and `handler` optional).
struct CommandSpawn: Sendable {
    let request: ChildRunRequest
    let key: String
    let policy: ChildFailurePolicy

    static let prefix = "JOBQ_SPAWN "

    /// Parses the line's JSON; a clear message for what is wrong.
    static func parse(_ text: String) throws(JobqError) -> CommandSpawn {
        let value: JSON
        do { value = try JSON.parse(text) } catch {
            throw JobqError(.invalidPayload, "JOBQ_SPAWN: not JSON: \(error)")
        }
        guard case .array(let items)? = value["tasks"], !items.isEmpty else {
            throw JobqError(.invalidPayload, "JOBQ_SPAWN: expected {\"tasks\": [{\"id\": …, \"handler\": …}, …]}")
        }
        guard items.count <= Limits.spawnMaxTasks else {
            throw JobqError(.tooManyTasks, "JOBQ_SPAWN: \(items.count) tasks; at most \(Limits.spawnMaxTasks) per spawn")
        }
        var workflow = Workflow("spawned")
        for item in items {
            guard let id = item["id"]?.stringValue, let handler = item["handler"]?.stringValue else {
                throw JobqError(.invalidPayload, "JOBQ_SPAWN: every task needs a string id and handler")
            }
            var after: [Prerequisite] = []
            if let given = item["after"] {
                guard case .array(let names) = given, names.allSatisfy({ $0.stringValue != nil }) else {
                    throw JobqError(.invalidPayload, "JOBQ_SPAWN: task \(id): after must be a list of task ids")
                }
                after = names.compactMap(\.stringValue).map { Prerequisite($0) }
            }
            var spec = TaskSpec(id: id, handler: handler, payload: item["payload"]?.bytes ?? Array("null".utf8), prerequisites: after)
            if let queue = item["queue"]?.stringValue { spec.queue = queue }
            if let title = item["title"]?.stringValue { spec.title = title }
            if case .number(let text)? = item["max_attempts"], let attempts = Int(text) { spec.maxAttempts = attempts }
            try workflow.add(spec)
        }
        let key = value["key"]?.stringValue ?? HandlerContext.defaultSpawnKey
        try Validation.check(name: key, as: .taskID)
        var policy = ChildFailurePolicy.failParent
        if let word = value["on_child_failure"]?.stringValue {
            guard let given = ChildFailurePolicy(rawValue: word) else {
                throw JobqError(.invalidPayload, "JOBQ_SPAWN: on_child_failure must be fail_parent or wake_parent, not \(word)")
            }
            policy = given
        }
        let request = try ChildRunRequest(definition: workflow.name, tasks: workflow.tasks, output: value["output"]?.stringValue)
        return CommandSpawn(request: request, key: key, policy: policy)
    }

    /// `JOBQ_CHILDREN_FILE`'s content: the run spawned under the default key, its state and its
    /// children in submission order — `{"run", "state", "children": [{"key", "state",
    /// "result", "reason"}]}`; `nil` when nothing was spawned under it.
    static func childrenJSON(_ context: HandlerContext) async throws(JobqError) -> [UInt8]? {
        guard let run = try await context.children() else { return nil }
        let children = try await context.childResults()
        let items: [JSON] = children.map { child in
            .object([
                ("key", .string(child.key)), ("state", child.state.map { .string($0.rawValue) } ?? .null),
                ("result", JSON.stored(child.result)), ("reason", child.reason.map { .string($0) } ?? .null),
            ])
        }
        return JSON.object([("run", .string(run.id)), ("state", .string(run.state.rawValue)), ("children", .array(items))]).bytes
    }
}
