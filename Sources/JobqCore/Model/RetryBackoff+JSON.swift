import Foundation

extension RetryBackoff {
    /// The JSON stored in the task hash (`backoff` field), keys sorted: the bytes take part in
    /// the idempotency fingerprint, so they must be stable.
    ///
    /// Written by hand rather than with `JSONEncoder` (which produces the same bytes, checked by
    /// RetryBackoffJSONTests): it runs for every submitted task, and the encoder's boxing and
    /// key sorting were about a tenth of a one-task submit's client CPU (docs/performance.md).
    var encodedJSON: [UInt8] {
        switch self {
        case .fixed(let delay):
            return Array(#"{"delay_ms":\#(delay.jobqMilliseconds),"kind":"fixed"}"#.utf8)
        case .exponential(let base, let cap, let jitter):
            return Array(#"{"base_ms":\#(base.jobqMilliseconds),"cap_ms":\#(cap.jobqMilliseconds),"jitter":\#(jitter),"kind":"exponential"}"#.utf8)
        }
    }

    /// Reads the stored JSON. The two shapes ``encodedJSON`` writes are read by a plain scan
    /// (every claimed task carries one: `JSONDecoder` here was a tenth of a worker's CPU per
    /// task); anything else goes through `JSONDecoder`, which also gives the errors.
    init?(json: [UInt8]) {
        if let value = Self.scan(json) {
            self = value
            return
        }
        guard let value = try? JSONDecoder().decode(RetryBackoff.self, from: Data(json)) else { return nil }
        self = value
    }

    /// ``encodedJSON``'s exact bytes back to the value; `nil` for any other text.
    private static func scan(_ json: [UInt8]) -> RetryBackoff? {
        var scanner = ExactScanner(bytes: json)
        if scanner.take(#"{"base_ms":"#), let base = scanner.milliseconds(), scanner.take(#","cap_ms":"#),
           let cap = scanner.milliseconds(), scanner.take(#","jitter":"#) {
            let jitter: Bool
            if scanner.take("true") { jitter = true } else if scanner.take("false") { jitter = false } else { return nil }
            guard scanner.take(#","kind":"exponential"}"#), scanner.atEnd else { return nil }
            return .exponential(base: .milliseconds(base), cap: .milliseconds(cap), jitter: jitter)
        }
        scanner = ExactScanner(bytes: json)
        if scanner.take(#"{"delay_ms":"#), let delay = scanner.milliseconds(), scanner.take(#","kind":"fixed"}"#), scanner.atEnd {
            return .fixed(delay: .milliseconds(delay))
        }
        return nil
    }

    /// Reads literal text and plain non-negative integers, nothing else.
    private struct ExactScanner {
        let bytes: [UInt8]
        var at = 0

        var atEnd: Bool { at == bytes.count }

        mutating func take(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard bytes.count - at >= count else { return false }
            let matches = literal.withUTF8Buffer { expected in
                (0..<count).allSatisfy { bytes[at + $0] == expected[$0] }
            }
            if matches { at += count }
            return matches
        }

        /// 1 to 18 digits without a leading zero (or `0` itself): what `Int64` formatting writes.
        mutating func milliseconds() -> Int64? {
            var value: Int64 = 0
            let start = at
            while at < bytes.count, (0x30...0x39).contains(bytes[at]), at - start < 18 {
                value = value * 10 + Int64(bytes[at] - 0x30)
                at += 1
            }
            let digits = at - start
            guard digits > 0, !(digits > 1 && bytes[start] == 0x30) else { return nil }
            if at < bytes.count, (0x30...0x39).contains(bytes[at]) { return nil } // longer than 18 digits
            return value
        }
    }
}
