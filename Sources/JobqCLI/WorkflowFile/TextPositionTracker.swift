/// 1-based line and column of byte offsets in a text, asked for in increasing order.
///
/// Why: a JSON workflow file's values are located in pre-order, which is increasing offset
/// order, so each lookup only scans from the previous one. Finding every position from byte 0
/// made a 16,000-task file take 30 s (quadratic); this keeps reading a file linear. A lookup
/// behind the previous one (not expected) starts over from byte 0 and stays correct.
///
/// Columns count characters (UTF-8 lead bytes), as the JSON parser's own errors do.
struct TextPositionTracker {
    let bytes: [UInt8]
    private var offset = 0
    private var line = 1
    private var column = 1

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func lineAndColumn(of target: Int) -> (line: Int, column: Int) {
        let target = min(max(0, target), bytes.count)
        if target < offset {
            offset = 0
            line = 1
            column = 1
        }
        while offset < target {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            offset += 1
        }
        return (line, column)
    }
}
