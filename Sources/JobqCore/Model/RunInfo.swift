/// A workflow run as its record says: what `jobq runs` lists and `jobq status RUN` heads with.
public struct RunInfo: Sendable, Hashable {
    public var id: String
    /// The definition it came from (the file's `workflow:` name).
    public var definition: String
    public var state: RunState
    /// Tasks per state, kept by the same script calls that change them (no task is read).
    public var counts: [TaskState: Int]
    /// Times (ms, Redis clock); `started` is the first claim of one of its tasks.
    public var created: Int64?
    public var started: Int64?
    public var finished: Int64?
    /// Why a run-level rule ended it (`deadline`, `fail_fast`), when one did.
    public var reason: String?
    /// The task that caused the stop (fail-fast), when there is one.
    public var cause: String?
    /// `jobq cancel RUN` was asked (the time, ms).
    public var cancelRequested: Int64?
    /// The run's options as stored (``RunOptionField`` raw names → values).
    public var options: [String: String]
    /// A child run (sub-workflow): the task `RUN/KEY` that waits for it.
    public var parent: String?

    /// Still being submitted in several calls (``RunOptionField/building``): it cannot end
    /// yet, and its counts grow as its chunks arrive.
    public var submitting: Bool { options[RunOptionField.building.rawValue] != nil }

    /// How many tasks the run has.
    public var total: Int { counts.values.reduce(0, +) }
    /// The asynciojobs summary line ("2D + 3R + 4P = 9" is `summary.description + " = total"`).
    public var summary: WorkflowSummary { WorkflowSummary(workflow: id, counts: counts) }

    /// Decodes a run record (its hash fields); `nil` when it is not a run's (no definition or
    /// state: a label-only workflow of standalone tasks).
    public init?(id: String, fields: [String: String]) {
        guard let definition = fields["def"], let state = fields["state"].flatMap(RunState.init(rawValue:)) else { return nil }
        self.id = id
        self.definition = definition
        self.state = state
        var counts: [TaskState: Int] = [:]
        for state in TaskState.allCases {
            if let n = fields["n_" + state.rawValue].flatMap(Int.init), n > 0 { counts[state] = n }
        }
        self.counts = counts
        created = fields["created"].flatMap { Int64($0) }
        started = fields["started"].flatMap { Int64($0) }
        finished = fields["finished"].flatMap { Int64($0) }
        reason = fields["reason"].flatMap { $0.isEmpty ? nil : $0 }
        cause = fields["cause"].flatMap { $0.isEmpty ? nil : $0 }
        cancelRequested = fields["cancelled"].flatMap { Int64($0) }
        parent = fields["parent"].flatMap { $0.isEmpty ? nil : $0 }
        var options: [String: String] = [:]
        for field in RunOptionField.allCases {
            if let value = fields[field.rawValue] { options[field.rawValue] = value }
        }
        self.options = options
    }
}

/// One page of `jobq runs`: the runs, newest first, and where the next page starts.
public struct RunPage: Sendable, Hashable {
    public var runs: [RunInfo]
    /// Pass to the next call; `nil` when there are no more runs.
    public var next: RunCursor?

    public init(runs: [RunInfo], next: RunCursor?) {
        self.runs = runs
        self.next = next
    }
}

/// Where a page of runs ends: the last run's creation time and id (ties in one millisecond are
/// ordered by id, so no run is skipped or repeated).
public struct RunCursor: Sendable, Hashable, CustomStringConvertible {
    public var score: String
    public var id: String

    public init(score: String, id: String) {
        self.score = score
        self.id = id
    }

    /// `score:id`, as `jobq runs --after` takes it.
    public var description: String { score + ":" + id }

    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let score = String(text[..<colon])
        let id = String(text[text.index(after: colon)...])
        guard Int64(score) != nil, (try? Validation.check(name: id, as: .run)) != nil else { return nil }
        self.init(score: score, id: id)
    }
}
