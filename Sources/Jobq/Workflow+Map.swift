import JobqCore

/// What a map goes over (``Workflow/add(_:map:task:width:window:requires:policy:title:)``).
public enum MapSource: Sendable, Hashable {
    /// The result of a task (a JSON list when it ends DONE); the map task comes after it.
    case resultOf(Workflow.TaskRef)
    /// A literal list, as JSON (``list(_:)`` encodes one).
    case elements([UInt8])

    /// A literal list of encodable elements.
    public static func list<Element: Encodable & Sendable>(_ elements: [Element]) throws(JobqError) -> MapSource {
        .elements(try PayloadCoding.encode(elements))
    }
}

/// A placeholder in a map's task payload, replaced per child: ``item`` by the element, ``index``
/// by its position (0-based). The wire form is `{"$item": true}` / `{"$index": true}` (YAML
/// `!item`, `!index`).
public struct MapElement: Codable, Sendable, Hashable {
    let key: String
    public static let item = MapElement(key: MapRequest.itemKey)
    public static let index = MapElement(key: MapRequest.indexKey)

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(true, forKey: Key(stringValue: key))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard let first = container.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a map placeholder"))
        }
        key = first.stringValue
    }

    private init(key: String) { self.key = key }

    private struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}

extension Workflow {
    /// Adds a mapped task (Airflow's dynamic task mapping): when it becomes ready, a worker's
    /// built-in `jobq.map` starts a child run with one task per element of `over`, each `task`
    /// with ``MapElement/item`` in its payload replaced by the element, at most `window` of them
    /// running at once; the mapped task ends with the child run — DONE with the children's
    /// results as a list, in element order, or FAILED (`child_failed`). An empty list makes it
    /// SKIPPED (result `[]`); a list longer than `width` fails it (`map_too_wide`), as does
    /// something else than a list (`map_not_list`). Throws `invalid_map`.
    ///
    /// `task` is a template: its handler, payload, queue, attempts, timeout…; its id and
    /// prerequisites are not used (every child is independent). `.resultOf(ref)` adds `ref` to
    /// the task's prerequisites.
    @discardableResult
    public mutating func add(
        _ key: String, map over: MapSource, task: TaskSpec, width: Int = MapRequest.defaultWidth, window: Int? = nil,
        requires prerequisites: [TaskRef] = [], policy: DependencyPolicy = .success, title: String = ""
    ) throws(JobqError) -> TaskRef {
        var after = prerequisites
        let list: [UInt8]
        switch over {
        case .resultOf(let source):
            list = Array("{\"$retval\":\"\(source.id)\"}".utf8)
            if !after.contains(source) { after.append(source) }
        case .elements(let bytes):
            list = bytes
        }
        let request = try MapRequest(over: list, task: task, width: width, window: window)
        let spec = TaskSpec(
            id: key, handler: MapRequest.handlerName, payload: try request.encoded(),
            prerequisites: after.map { Prerequisite($0.id, policy: policy) }, timeout: ChildRunRequest.startTimeout, title: title
        )
        return try add(spec)
    }
}
