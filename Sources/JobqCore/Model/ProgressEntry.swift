/// One progress bar of a running task: jobcontrol's `report_progress(group, current, total,
/// status_line)`. The empty group is the task as a whole (kofa's `percent`).
public struct ProgressEntry: Sendable, Hashable, Codable {
    /// Group names from the root, e.g. `["http://x/foo.zip", "downloading"]`; `[]` for the task.
    public var group: [String]
    public var current: Int
    public var total: Int
    public var status: String

    public init(group: [String] = [], current: Int, total: Int, status: String = "") {
        self.group = group
        self.current = current
        self.total = total
        self.status = status
    }

    /// 0…1, or `nil` when the total is unknown.
    public var fraction: Double? { total > 0 ? min(1, max(0, Double(current) / Double(total))) : nil }
}
