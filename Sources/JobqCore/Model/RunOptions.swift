/// What a run is asked to keep to, beside its tasks' own settings; stored in the run record.
public struct RunOptions: Sendable, Hashable {
    /// The run's id; generated from the definition name when `nil` (``RunScope/generateID(definition:)``).
    public var id: String?
    /// The definition the run comes from (a workflow file's `workflow:` name, or
    /// ``Workflow``'s name): `jobq runs --definition NAME` lists its runs.
    public var definition: String

    public init(id: String? = nil, definition: String) {
        self.id = id
        self.definition = definition
    }

    /// Throws `invalid_name` for a bad id or definition name.
    public func validate() throws(JobqError) {
        try Validation.check(name: definition, as: .workflow)
        if let id { try Validation.check(name: id, as: .run) }
    }

    /// The fields submit.lua stores in the run record (``RunOptionField``), besides its own.
    package var recordFields: [(RunOptionField, String)] { [] }
}
