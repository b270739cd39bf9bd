/// The immutable part of a task record, packed by submit.lua into the one hash field `spec`
/// (tab-separated; no name contains a tab, the title comes last and may hold anything but is
/// never split). The prelude's `spec_of` reads it in Lua; this is the one Swift reader.
package struct PackedSpec: Sendable, Hashable {
    package var queue: String
    /// The task's priority: the first field is `queue`, or `queue P` for a priority P other
    /// than 0 (prelude.lua PRIORITY; records from before priorities have none: 0), or
    /// `queue P KEY` with a fair key.
    package var priority: Int
    /// The expanded fair key (``TaskSpec/fairKey``), `nil` for none.
    package var fairKey: String?
    package var handler: String
    /// `nil` when the stored text is not a number (a corrupt record).
    package var maxAttempts: Int?
    package var timeoutMilliseconds: Int64
    package var ttlMilliseconds: Int64
    package var workflow: String?
    package var prerequisiteCount: Int
    package var backoff: [UInt8]
    package var title: String

    /// The fields in their packed order.
    static let fieldCount = 9

    /// Parses the packed text; `nil` when it does not have the nine fields.
    package init?(_ bytes: [UInt8]) {
        let parts = bytes.split(separator: 0x09, maxSplits: Self.fieldCount - 1, omittingEmptySubsequences: false)
        guard parts.count == Self.fieldCount else { return nil }
        func text(_ index: Int) -> String { String(decoding: parts[index], as: UTF8.self) }
        let lane = text(0).split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        if lane.count >= 2, let level = Int(lane[1]) {
            queue = String(lane[0])
            priority = level
            fairKey = lane.count == 3 ? String(lane[2]) : nil
        } else {
            queue = text(0)
            priority = TaskSpec.defaultPriority
            fairKey = nil
        }
        handler = text(1)
        maxAttempts = Int(text(2)) ?? Double(text(2)).map { Int($0) }
        timeoutMilliseconds = Int64(text(3)) ?? 0
        ttlMilliseconds = Int64(text(4)) ?? 0
        workflow = parts[5].isEmpty ? nil : text(5)
        prerequisiteCount = Int(text(6)) ?? 0
        backoff = Array(parts[7])
        title = text(8)
    }

    package init?(_ text: String) { self.init(Array(text.utf8)) }
}
