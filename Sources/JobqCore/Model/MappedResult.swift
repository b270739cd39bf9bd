/// The stored result of a mapped task that ended DONE: `{"$mapped": "<child run>", "count": N}`,
/// a marker instead of the children's results, so that ending the task is one bounded script
/// call whatever N is. Readers expand it into the ordered list of the children's results
/// (``TaskStore/expandMapped(_:)``: the worker's `!retval` resolution, `jobq result`,
/// `client.result`), a page of child records per round trip.
public enum MappedResult {
    public static let key = "$mapped"

    /// The marker for `count` children of run `run`.
    public static func marker(run: String, count: Int) -> [UInt8] {
        JSONValue.object([(key, .string(run)), ("count", .int(count))]).bytes
    }

    /// The child run and count of a marker; `nil` for any other result (cheap: a prefix test first).
    public static func parse(_ bytes: [UInt8]) -> (run: String, count: Int)? {
        let prefix = Array(#"{"$mapped":"#.utf8)
        guard bytes.count > prefix.count, Array(bytes.prefix(prefix.count)) == prefix,
            case .object(let pairs)? = try? JSONValue.parse(bytes), pairs.count == 2,
            let run = pairs.first(where: { $0.0 == key })?.1.stringValue,
            case .number(let text)? = pairs.first(where: { $0.0 == "count" })?.1, let count = Int(text), count >= 0
        else { return nil }
        return (run, count)
    }
}
