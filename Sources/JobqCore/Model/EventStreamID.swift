/// A position in the audit stream: a Redis stream entry id `ms-seq`.
///
/// Entry ids are compared as two numbers, never as text (`9-0` comes before `10-0`), and are
/// what `jobq events --since` takes, so the parser refuses anything Redis would not read as a
/// complete id.
public struct EventStreamID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since the epoch (Redis time when the entry was added).
    public var milliseconds: UInt64
    public var sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64 = 0) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `ms-seq` (both parts decimal digits); `nil` for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let milliseconds = UInt64(parts[0]), let sequence = UInt64(parts[1])
        else { return nil }
        self.init(milliseconds: milliseconds, sequence: sequence)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (lhs: EventStreamID, rhs: EventStreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}
