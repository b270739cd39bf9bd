/// Task ids within runs: a task of run `nightly-01J…` with key `fetch` has the id
/// `nightly-01J…/fetch`.
///
/// `/` is outside the name grammar, so a scoped id never collides with a standalone task's id,
/// and every key of a run's task is derivable from the run id (a later Redis Cluster layout can
/// hash-tag a run by the part before `/`). Inside a run, tasks refer to each other by key
/// (`after: [fetch]`, `!retval fetch`, `context.result(of: "fetch")`); ``resolve(_:within:)``
/// turns such a reference into the full id.
public enum RunScope {
    public static let separator: Character = "/"

    /// `run/key`.
    public static func id(run: String, key: String) -> String { run + "/" + key }

    /// The run and key of a scoped id; `nil` for a standalone task's id.
    public static func split(_ id: String) -> (run: String, key: String)? {
        // on the UTF-8 view: a Character search walks grapheme clusters, and this runs for every
        // task a worker starts
        let utf8 = id.utf8
        guard let slash = utf8.firstIndex(of: separatorByte) else { return nil }
        return (String(id[..<slash]), String(id[utf8.index(after: slash)...]))
    }

    private static let separatorByte = UInt8(ascii: "/")

    /// The run a task id belongs to, if any.
    public static func run(of id: String) -> String? { split(id)?.run }

    /// The key of a task id within its run (the id itself for a standalone task).
    public static func key(of id: String) -> String { split(id)?.key ?? id }

    /// A reference made by a task of `run`: a bare key names a task of the same run; a scoped id
    /// (or any reference outside a run) is taken as it is.
    public static func resolve(_ reference: String, within run: String?) -> String {
        guard let run, !reference.utf8.contains(separatorByte) else { return reference }
        return id(run: run, key: reference)
    }

    /// A generated run id: the definition name and a time-ordered suffix (a ULID), so that
    /// listing by id is listing by creation within a definition: `nightly-01JF3…`.
    public static func generateID(definition: String) -> String {
        let suffix = "-" + TaskID.generate()
        return String(definition.prefix(Validation.maxNameLength - suffix.count)) + suffix
    }
}
