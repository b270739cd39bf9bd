/// A strict RFC 8259 JSON validator: iterative (a hostile `[[[[…` cannot exhaust the stack),
/// allocation-free apart from the container stack, and exact about what it accepts.
///
/// Foundation's parser is lenient on Linux (it accepts `[1,]`), and payloads cross languages
/// through command handlers, so jobq checks the grammar itself.
struct JSONValidator {
    enum Failure: Error, Equatable {
        case syntax(offset: Int, expected: String)
        case tooDeep(limit: Int)
    }

    let maxDepth: Int

    func validate(_ bytes: [UInt8]) throws(Failure) {
        var parser = Parser(bytes: bytes, maxDepth: maxDepth)
        try parser.document()
    }

    private struct Parser {
        let bytes: [UInt8]
        let maxDepth: Int
        var offset = 0
        /// Open containers: true for an object, false for an array.
        var stack: [Bool] = []

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        mutating func document() throws(Failure) {
            try value()
            skipSpace()
            guard offset == bytes.count else { throw .syntax(offset: offset, expected: "end of input") }
        }

        /// Parses one value; containers are walked with an explicit stack, not recursion.
        mutating func value() throws(Failure) {
            while true {
                skipSpace()
                guard offset < bytes.count else { throw .syntax(offset: offset, expected: "a value") }
                switch bytes[offset] {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    let isObject = bytes[offset] == UInt8(ascii: "{")
                    offset += 1
                    guard stack.count < maxDepth else { throw .tooDeep(limit: maxDepth) }
                    stack.append(isObject)
                    skipSpace()
                    if offset < bytes.count, bytes[offset] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        offset += 1
                        stack.removeLast()
                        break // an empty container is a complete value
                    }
                    if isObject { try key() }
                    continue // parse the first element
                case UInt8(ascii: "\""): try string()
                case UInt8(ascii: "t"): try literal("true")
                case UInt8(ascii: "f"): try literal("false")
                case UInt8(ascii: "n"): try literal("null")
                default: try number()
                }
                // A value ended: close containers or move to the next element.
                while let isObject = stack.last {
                    skipSpace()
                    guard offset < bytes.count else { throw .syntax(offset: offset, expected: isObject ? "',' or '}'" : "',' or ']'") }
                    let byte = bytes[offset]
                    offset += 1
                    if byte == UInt8(ascii: ",") {
                        if isObject { try key() }
                        break
                    } else if byte == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        stack.removeLast()
                    } else {
                        throw .syntax(offset: offset - 1, expected: isObject ? "',' or '}'" : "',' or ']'")
                    }
                }
                if stack.isEmpty { return }
            }
        }

        /// `"name" :` inside an object.
        mutating func key() throws(Failure) {
            skipSpace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw .syntax(offset: offset, expected: "a string key") }
            try string()
            skipSpace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw .syntax(offset: offset, expected: "':'") }
            offset += 1
        }

        mutating func string() throws(Failure) {
            offset += 1 // opening quote
            while offset < bytes.count {
                let byte = bytes[offset]
                offset += 1
                switch byte {
                case UInt8(ascii: "\""): return
                case UInt8(ascii: "\\"):
                    guard offset < bytes.count else { break }
                    let escape = bytes[offset]
                    offset += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        continue
                    case UInt8(ascii: "u"):
                        for _ in 0..<4 {
                            guard offset < bytes.count, isHex(bytes[offset]) else { throw .syntax(offset: offset, expected: "4 hex digits") }
                            offset += 1
                        }
                    default: throw .syntax(offset: offset - 1, expected: "an escape character")
                    }
                case 0..<0x20: throw .syntax(offset: offset - 1, expected: "no control characters in strings")
                case 0x80...:
                    offset -= 1
                    try utf8Sequence()
                default: continue
                }
            }
            throw .syntax(offset: offset, expected: "closing '\"'")
        }

        /// One well-formed UTF-8 sequence (no overlongs, no surrogates).
        mutating func utf8Sequence() throws(Failure) {
            let lead = bytes[offset]
            let (count, low, high): (Int, UInt8, UInt8) = switch lead {
            case 0xC2...0xDF: (1, 0x80, 0xBF)
            case 0xE0: (2, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (2, 0x80, 0xBF)
            case 0xED: (2, 0x80, 0x9F)
            case 0xF0: (3, 0x90, 0xBF)
            case 0xF1...0xF3: (3, 0x80, 0xBF)
            case 0xF4: (3, 0x80, 0x8F)
            default: throw .syntax(offset: offset, expected: "valid UTF-8")
            }
            offset += 1
            for index in 0..<count {
                guard offset < bytes.count else { throw .syntax(offset: offset, expected: "valid UTF-8") }
                let byte = bytes[offset]
                let range: ClosedRange<UInt8> = index == 0 ? low...high : 0x80...0xBF
                guard range.contains(byte) else { throw .syntax(offset: offset, expected: "valid UTF-8") }
                offset += 1
            }
        }

        mutating func number() throws(Failure) {
            let start = offset
            if peek(UInt8(ascii: "-")) { offset += 1 }
            if peek(UInt8(ascii: "0")) {
                offset += 1
            } else {
                guard digits() > 0 else { throw .syntax(offset: start, expected: "a value") }
            }
            if peek(UInt8(ascii: ".")) {
                offset += 1
                guard digits() > 0 else { throw .syntax(offset: offset, expected: "digits after '.'") }
            }
            if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
                offset += 1
                if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { offset += 1 }
                guard digits() > 0 else { throw .syntax(offset: offset, expected: "exponent digits") }
            }
        }

        mutating func digits() -> Int {
            let start = offset
            while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
            return offset - start
        }

        mutating func literal(_ word: StaticString) throws(Failure) {
            let expected = word.withUTF8Buffer { Array($0) }
            guard bytes.count - offset >= expected.count, Array(bytes[offset..<(offset + expected.count)]) == expected else {
                throw .syntax(offset: offset, expected: "\(word)")
            }
            offset += expected.count
        }

        func peek(_ byte: UInt8) -> Bool { offset < bytes.count && bytes[offset] == byte }

        func isHex(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }

        mutating func skipSpace() {
            while offset < bytes.count {
                switch bytes[offset] {
                case 0x20, 0x09, 0x0A, 0x0D: offset += 1
                default: return
                }
            }
        }
    }
}
