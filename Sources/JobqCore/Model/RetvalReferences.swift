/// Result passing (jobcontrol's `!retval`): a payload may hold `{"$retval": "task-id"}`, the wire
/// form of "the JSON result of that task", which must be a (transitive) prerequisite. The worker
/// replaces each such object with the result just before running the handler.
public enum RetvalReferences {
    /// A `{"$retval": "id"}` object found in a payload: its byte range and the id it names.
    public struct Reference: Sendable, Hashable {
        public let range: Range<Int>
        public let id: String
    }

    /// Every `{"$retval": "id"}` object of a JSON payload (whitespace allowed inside, exactly
    /// that one key, an id in the name grammar), in order. Text inside JSON strings is never
    /// matched. Pure: no Redis.
    public static func find(in payload: [UInt8]) -> [Reference] {
        let marker = Array("\"$retval\"".utf8)
        guard payload.count >= marker.count + 4, contains(payload, marker) else { return [] }
        var found: [Reference] = []
        var index = 0
        var inString = false
        var escaped = false
        while index < payload.count {
            let byte = payload[index]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{"), let (end, id) = matchReference(payload, at: index, marker: marker) {
                found.append(Reference(range: index..<end, id: id))
                index = end
                continue
            }
            index += 1
        }
        return found
    }

    /// `payload` with each reference replaced by `results[id]` (`null` when absent or empty).
    /// Pure: no Redis.
    public static func substitute(in payload: [UInt8], results: [String: [UInt8]]) -> [UInt8] {
        let references = find(in: payload)
        guard !references.isEmpty else { return payload }
        var out: [UInt8] = []
        out.reserveCapacity(payload.count)
        var position = 0
        for reference in references {
            out += payload[position..<reference.range.lowerBound]
            let result = results[reference.id] ?? []
            out += result.isEmpty ? Array("null".utf8) : result
            position = reference.range.upperBound
        }
        out += payload[position...]
        return out
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }

    /// Matches `{ "$retval" : "id" }` at `start`; returns the end offset and the id.
    private static func matchReference(_ bytes: [UInt8], at start: Int, marker: [UInt8]) -> (Int, String)? {
        var index = start + 1
        func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }
        skipSpace()
        guard index + marker.count <= bytes.count, Array(bytes[index..<(index + marker.count)]) == marker else { return nil }
        index += marker.count
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
        index += 1
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        let idStart = index
        while index < bytes.count, Validation.isNameByte(bytes[index]) { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), index > idStart,
            index - idStart <= Validation.maxNameLength
        else { return nil }
        let id = String(decoding: bytes[idStart..<index], as: UTF8.self)
        index += 1
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "}") else { return nil }
        return (index + 1, id)
    }
}
