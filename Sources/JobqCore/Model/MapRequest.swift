import Foundation

/// A mapped task (`map:` in a workflow file, `Workflow.add(_:map:…)`): when it becomes ready, a
/// worker's built-in ``handlerName`` expands it into a child run with one task per element of
/// ``over`` (docs/workflow-files.md, "Map"), and the task waits for that run as a sub-workflow
/// task does. It travels as the task's payload, with ``over`` and the template's payload kept as
/// JSON (not strings) so the worker's `!retval` resolution reaches references inside them.
public struct MapRequest: Sendable, Hashable {
    /// The built-in handler every worker runs for mapped tasks.
    public static let handlerName = "jobq.map"
    /// The width cap when none is given, and the largest one may give.
    public static let defaultWidth = 10_000
    public static let maxWidth = 100_000
    /// The definition name of every child run a map starts.
    public static let childDefinition = "map"
    /// `{"$item": true}` in the template's payload stands for the element; `{"$index": true}`
    /// for its position (0-based). YAML: `!item`, `!index`.
    public static let itemKey = "$item"
    public static let indexKey = "$index"
    public static let item: [UInt8] = Array(#"{"$item":true}"#.utf8)
    public static let index: [UInt8] = Array(#"{"$index":true}"#.utf8)

    /// The list (JSON array) or a `{"$retval": "id"}` reference to a list.
    public var over: [UInt8]
    /// The template of each child: handler, queue, attempts, timeout…; its `payload` holds the
    /// placeholders. Its key and `after` are not used (children are independent).
    public var task: ChildRunRequest.ChildTask
    public var width: Int
    /// The child run's window (at most this many children running at once).
    public var window: Int?

    /// Checks and builds a map request: `over` must be a JSON array or one `!retval` reference,
    /// `task` a task with a handler of its own (not a built-in), `width` from 1 to
    /// ``maxWidth``, `window` from 1 to ``RunOptions/maxWindow``. Throws `invalid_map`.
    public init(over: [UInt8], task: TaskSpec, width: Int = defaultWidth, window: Int? = nil) throws(JobqError) {
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(over) } catch {
            throw JobqError(.invalidMap, "map `over` is not JSON: \(error.message)")
        }
        switch parsed {
        case .array: break
        case .object(let pairs) where pairs.count == 1 && pairs[0].0 == "$retval" && pairs[0].1.stringValue != nil: break
        default: throw JobqError(.invalidMap, "map `over` must be a list or a !retval reference to a task whose result is a list")
        }
        guard !task.handler.isEmpty else { throw JobqError(.invalidMap, "a map's `task` needs a handler") }
        guard task.handler != Self.handlerName, task.handler != ChildRunRequest.handlerName else {
            throw JobqError(.invalidMap, "a map's `task` cannot be the built-in \(task.handler): map over tasks with a handler of their own")
        }
        guard (1...Self.maxWidth).contains(width) else {
            throw JobqError(.invalidMap, "map `width` must be from 1 to \(Self.maxWidth) children; got \(width)")
        }
        if let window, !(1...RunOptions.maxWindow).contains(window) {
            throw JobqError(.invalidMap, "map `window` must be from 1 to \(RunOptions.maxWindow) children running at once; got \(window)")
        }
        // its key templates may name fields inside the placeholders (expanded per child); the
        // other paths must exist now, as in any task
        do {
            try task.concurrency?.validate(payload: task.payload, deferringElements: true)
            try task.rate?.validate(payload: task.payload, queue: task.queue, deferringElements: true)
            if let fairKey = task.fairKey { _ = try FairKey.expand(fairKey, payload: task.payload, deferringElements: true) }
        } catch {
            throw JobqError(.invalidMap, "a map's `task`: \(error.message)")
        }
        var template = task
        template.id = "item"
        template.prerequisites = []
        let child: ChildRunRequest
        do { child = try ChildRunRequest(definition: Self.childDefinition, tasks: [template]) } catch {
            throw JobqError(.invalidMap, "a map's `task`: \(error.message)")
        }
        self.over = parsed.bytes
        self.task = child.tasks[0]
        self.width = width
        self.window = window
    }

    /// The payload bytes of the mapped task.
    public func encoded() throws(JobqError) -> [UInt8] {
        var shell = task
        let payload = (try? JSONValue.parse(Array(shell.payload.utf8))) ?? .null
        shell.payload = ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let taskValue: JSONValue
        do { taskValue = try JSONValue.parse(Array(try encoder.encode(shell))) } catch {
            throw JobqError(.internalError, "cannot encode a map request: \(error)")
        }
        var pairs: [(String, JSONValue)] = [
            ("over", (try? JSONValue.parse(over)) ?? .null), ("payload", payload), ("task", taskValue), ("width", .int(width)),
        ]
        if let window { pairs.append(("window", .int(window))) }
        return JSONValue.object(pairs).bytes
    }

    /// Reads a mapped task's payload (its references resolved or not); `invalid_payload` when it
    /// is not one.
    public static func decode(_ payload: [UInt8]) throws(JobqError) -> MapRequest {
        func bad(_ why: String) -> JobqError {
            JobqError(.invalidPayload, "the payload of a \(handlerName) task is not a map request: \(why)")
        }
        let value: JSONValue
        do { value = try JSONValue.parse(payload) } catch { throw bad(error.message) }
        guard let over = value["over"], let taskValue = value["task"], case .number(let widthText)? = value["width"], let width = Int(widthText) else {
            throw bad("it needs over, task and width")
        }
        var task: ChildRunRequest.ChildTask
        do { task = try JSONDecoder().decode(ChildRunRequest.ChildTask.self, from: Data(taskValue.bytes)) } catch { throw bad("\(error)") }
        task.payload = (value["payload"] ?? .null).rendered()
        var window: Int?
        if case .number(let text)? = value["window"] { window = Int(text) }
        return MapRequest(over: over.bytes, task: task, width: width, window: window)
    }

    private init(over: [UInt8], task: ChildRunRequest.ChildTask, width: Int, window: Int?) {
        self.over = over
        self.task = task
        self.width = width
        self.window = window
    }

    /// What a worker does with a map whose references are resolved.
    public enum Expansion: Sendable {
        /// `over` is not a JSON array (reason `map_not_list`): what it is instead.
        case notList(String)
        /// An empty list: the task ends SKIPPED.
        case empty
        /// More elements than the width cap (reason `map_too_wide`).
        case tooWide(count: Int)
        /// The child run to start: one task per element, keys `0`, `1`, … in order.
        case children(ChildRunRequest, count: Int)
    }

    /// The child run this map expands to, once ``over`` holds the list itself.
    public func expansion() throws(JobqError) -> Expansion {
        let elements: [JSONValue]
        switch JSONValue.stored(over) {
        case .array(let items): elements = items
        case .null: return .notList("null")
        case .bool: return .notList("a boolean")
        case .number: return .notList("a number")
        case .string: return .notList("a string")
        case .object: return .notList("an object")
        }
        guard !elements.isEmpty else { return .empty }
        guard elements.count <= width else { return .tooWide(count: elements.count) }
        let template = JSONValue.stored(Array(task.payload.utf8))
        var request = try ChildRunRequest(definition: Self.childDefinition, tasks: [], window: window)
        request.tasks.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            var child = task
            child.key = String(index)
            child.after = []
            child.payload = Self.substitute(template, item: element, index: index).rendered()
            request.tasks.append(child)
        }
        return .children(request, count: elements.count)
    }

    /// `template` with each `{"$item": true}` replaced by `item` and each `{"$index": true}` by
    /// `index`.
    static func substitute(_ template: JSONValue, item: JSONValue, index: Int) -> JSONValue {
        switch template {
        case .object(let pairs):
            if isPlaceholder(template) { return pairs[0].0 == itemKey ? item : .int(index) }
            return .object(pairs.map { ($0.0, substitute($0.1, item: item, index: index)) })
        case .array(let items):
            return .array(items.map { substitute($0, item: item, index: index) })
        default:
            return template
        }
    }

    /// Whether `value` is an element placeholder itself (`{"$item": true}` or `{"$index": true}`).
    package static func isPlaceholder(_ value: JSONValue) -> Bool {
        guard case .object(let pairs) = value, pairs.count == 1, pairs[0].1 == .bool(true) else { return false }
        return pairs[0].0 == itemKey || pairs[0].0 == indexKey
    }

    /// Whether a JSON payload holds an element placeholder (outside a map's template it would
    /// never be replaced).
    public static func hasPlaceholder(_ payload: [UInt8]) -> Bool {
        func walk(_ value: JSONValue) -> Bool {
            switch value {
            case .object(let pairs):
                return isPlaceholder(value) || pairs.contains { walk($0.1) }
            case .array(let items): return items.contains(where: walk)
            default: return false
            }
        }
        return walk(JSONValue.stored(payload))
    }
}
