import Foundation
import Testing
@testable import JobqCore

/// `RetryBackoff.encodedJSON` is written by hand for speed; it must stay byte for byte what
/// `JSONEncoder` with sorted keys writes (the stored field and the idempotency fingerprint of
/// submissions made before the change depend on it), and read back as the same value.
@Suite("Retry backoff JSON")
struct RetryBackoffJSONTests {
    static let values: [RetryBackoff] = [
        .fixed(delay: .zero), .fixed(delay: .milliseconds(1500)), .fixed(delay: .seconds(86_400 * 30)),
        .exponential(base: .seconds(1), cap: .seconds(300)),
        .exponential(base: .milliseconds(250), cap: .seconds(60), jitter: false),
        .exponential(base: .zero, cap: .zero, jitter: true),
    ]

    @Test(arguments: values)
    func matchesJSONEncoderWithSortedKeys(backoff: RetryBackoff) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let expected = Array(try encoder.encode(backoff))
        #expect(String(decoding: backoff.encodedJSON, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        #expect(RetryBackoff(json: backoff.encodedJSON) == backoff)
    }

    /// Reading takes a fast scan for exactly what `encodedJSON` writes and `JSONDecoder` for the
    /// rest: both must agree, and what JSONDecoder refuses stays refused.
    @Test func readsOtherSpellingsAsJSONDecoderDoes() {
        let same: [(String, RetryBackoff)] = [
            (#"{"kind":"fixed","delay_ms":250}"#, .fixed(delay: .milliseconds(250))),
            (#"{ "delay_ms": 250, "kind": "fixed" }"#, .fixed(delay: .milliseconds(250))),
            (#"{"kind":"exponential","base_ms":10,"cap_ms":20}"#, .exponential(base: .milliseconds(10), cap: .milliseconds(20), jitter: true)),
            (#"{"base_ms":10,"cap_ms":20,"jitter":false,"kind":"exponential","extra":1}"#, .exponential(base: .milliseconds(10), cap: .milliseconds(20), jitter: false)),
            (#"{"delay_ms":999999999999999999,"kind":"fixed"}"#, .fixed(delay: .milliseconds(999_999_999_999_999_999))),
        ]
        for (text, expected) in same {
            #expect(RetryBackoff(json: Array(text.utf8)) == expected, "\(text)")
        }
        for text in [#"{"delay_ms":-1,"kind":"fixed"}"#, #"{"delay_ms":"5","kind":"fixed"}"#, #"{"delay_ms":5,"kind":"linear"}"#,
                     #"{"base_ms":1,"cap_ms":2,"jitter":maybe,"kind":"exponential"}"#, "", "{}", #"{"delay_ms":5,"kind":"fixed"} x"#] {
            #expect(RetryBackoff(json: Array(text.utf8)) == nil, "\(text)")
        }
    }
}

/// Generated ids take their 80 random bits from two draws of the generator, and every bit shows.
@Suite("Task id randomness")
struct TaskIDRandomnessTests {
    /// Answers the given values in turn (and counts the draws).
    struct Scripted: RandomNumberGenerator {
        var values: [UInt64]
        var draws = 0
        mutating func next() -> UInt64 {
            defer { draws += 1 }
            return values[draws % values.count]
        }
    }

    @Test func eightyBitsFromTwoDraws() {
        var zeros = Scripted(values: [0, 0])
        let low = TaskID.generate(milliseconds: 0, using: &zeros)
        #expect(zeros.draws == 2)
        #expect(low == String(repeating: "0", count: 26))
        var ones = Scripted(values: [.max, .max])
        #expect(TaskID.generate(milliseconds: 0, using: &ones).suffix(16) == Substring(String(repeating: "Z", count: 16)))
        // each 5-bit group of the first draw's low 60 bits and of the second's low 20 bits is
        // one character: flipping one bit changes exactly one character
        for bit in [0, 5, 59] as [UInt64] {
            var one = Scripted(values: [1 << bit, 0])
            let id = TaskID.generate(milliseconds: 0, using: &one)
            #expect(zip(id, low).filter { $0 != $1 }.count == 1, "bit \(bit) of the first draw")
        }
        for bit in [0, 19] as [UInt64] {
            var one = Scripted(values: [0, 1 << bit])
            let id = TaskID.generate(milliseconds: 0, using: &one)
            #expect(zip(id, low).filter { $0 != $1 }.count == 1, "bit \(bit) of the second draw")
        }
    }
}
