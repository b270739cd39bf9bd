import Foundation

/// What a run is asked to keep to, beside its tasks' own settings; stored in the run record and
/// enforced by the scripts, fleet-wide (docs/workflow-files.md, "Run options").
public struct RunOptions: Sendable, Hashable {
    /// When a run must be over: a time after the submission (measured on Redis's clock), or an
    /// absolute time (``Deadline``, shared with a task's expiry).
    public typealias Deadline = JobqCore.Deadline

    /// The run's id; generated from the definition name when `nil` (``RunScope/generateID(definition:)``).
    public var id: String?
    /// The definition the run comes from (a workflow file's `workflow:` name, or
    /// ``Workflow``'s name): `jobq runs --definition NAME` lists its runs.
    public var definition: String
    /// At most this many of the run's tasks RUNNING at once, across every worker
    /// (asynciojobs' `jobs_window`); `nil`: no limit.
    public var window: Int?
    /// When it passes, running tasks are cancelled (their handlers told), pending ones end
    /// CANCELLED with reason `deadline`, and the run ends FAILED with reason `deadline`.
    public var deadline: Deadline?
    /// The first task that fails for good stops the rest of the run (cs.taskqueue's
    /// `fail_fast`): they end CANCELLED with reason `fail_fast`, the run FAILED.
    public var failFast: Bool
    /// Keys of tasks whose failure stops the run even without ``failFast`` (asynciojobs'
    /// critical jobs); any other task's failure only takes down its dependents.
    public var critical: Set<String>
    /// The task whose result is the run's output: a sub-workflow task that started this run
    /// ends DONE with it.
    public var output: String?

    /// The parent task's lease when a running task spawns this run (``SpawnFence``): set by the
    /// worker, never by producers.
    package var spawnedBy: SpawnFence? = nil

    /// The largest window accepted: more is "no window", and almost certainly a typo.
    public static let maxWindow = 100_000

    public init(id: String? = nil, definition: String, window: Int? = nil, deadline: Deadline? = nil, failFast: Bool = false, critical: Set<String> = [], output: String? = nil) {
        self.output = output
        self.id = id
        self.definition = definition
        self.window = window
        self.deadline = deadline
        self.failFast = failFast
        self.critical = critical
    }

    /// Throws `invalid_name` for a bad id or definition name, `invalid_option` for a window
    /// of 0 or absurd, a deadline in the past (by this machine's clock; the script checks
    /// again on Redis's) or beyond the longest task timeout's range, and a critical key that
    /// is not a name.
    public func validate(now: Date = Date()) throws(JobqError) {
        try Validation.check(name: definition, as: .workflow)
        if let id { try Validation.check(name: id, as: .run) }
        if let window, !(1...Self.maxWindow).contains(window) {
            throw JobqError(.invalidOption, "the run's window must be from 1 to \(Self.maxWindow) tasks running at once; got \(window)")
        }
        try deadline?.validate("the run's deadline", now: now)
        for key in critical.sorted() { try Validation.check(name: key, as: .taskID) }
    }

    /// The fields submit.lua stores in the run record (``RunOptionField``), besides its own.
    package var recordFields: [(RunOptionField, String)] {
        var fields: [(RunOptionField, String)] = []
        if let window { fields.append((.window, String(window))) }
        switch deadline {
        case .after(let duration)?: fields.append((.deadlineIn, String(duration.jobqMilliseconds)))
        case .at(let date)?: fields.append((.deadline, String(Int64(date.timeIntervalSince1970 * 1000))))
        case nil: break
        }
        if failFast { fields.append((.failFast, "1")) }
        if !critical.isEmpty { fields.append((.critical, " " + critical.sorted().joined(separator: " ") + " ")) }
        if let output { fields.append((.output, output)) }
        if let spawnedBy { fields.append((.spawnedBy, spawnedBy.scriptArgument)) }
        return fields
    }
}
