import Foundation
import Testing

@testable import JobqCore

@Suite("RetryBackoff")
struct RetryBackoffTests {
    /// A `random` that must not be consulted.
    private let noRandom: () -> Double = {
        Issue.record("random() called for a policy without jitter")
        return 0.5
    }

    @Test func fixedDelayIsTheSameForEveryAttempt() {
        let backoff = RetryBackoff.fixed(delay: .milliseconds(5_000))
        for attempt in [1, 2, 7, 10_000, Int.max] {
            #expect(backoff.delay(afterAttempt: attempt, random: noRandom) == .seconds(5))
        }
        #expect(backoff.delayMilliseconds(afterAttempt: 3, random: noRandom) == 5_000)
        #expect(RetryBackoff.fixed(delay: .seconds(-1)).delay(afterAttempt: 1) == .zero)
    }

    @Test func exponentialDoublesWithoutJitter() {
        let backoff = RetryBackoff.exponential(base: .milliseconds(250), cap: .seconds(3_600), jitter: false)
        var expected = Duration.milliseconds(250)
        for attempt in 1...12 {
            #expect(backoff.delay(afterAttempt: attempt, random: noRandom) == expected, "attempt \(attempt)")
            expected *= 2
        }
        #expect(backoff.delayMilliseconds(afterAttempt: 5, random: noRandom) == 4_000)
        // Attempts below 1 behave like the first.
        #expect(backoff.delay(afterAttempt: 0, random: noRandom) == .milliseconds(250))
        #expect(backoff.delay(afterAttempt: -5, random: noRandom) == .milliseconds(250))
    }

    @Test func exponentialStopsAtTheCap() {
        let backoff = RetryBackoff.exponential(base: .seconds(1), cap: .seconds(10), jitter: false)
        let delays = (1...8).map { backoff.delay(afterAttempt: $0, random: noRandom) }
        #expect(delays == [1, 2, 4, 8, 10, 10, 10, 10].map { Duration.seconds($0) })
        #expect(backoff.maximumDelay == .seconds(10))
    }

    @Test(arguments: [64, 65, 100, 10_000, Int.max])
    func hugeAttemptsGiveTheCapWithoutOverflow(attempt: Int) {
        let plain = RetryBackoff.exponential(base: .seconds(1), cap: .seconds(300), jitter: false)
        #expect(plain.delay(afterAttempt: attempt, random: noRandom) == .seconds(300))
        let jittered = RetryBackoff.default
        let delay = jittered.delay(afterAttempt: attempt, random: { 0.999 })
        #expect(delay >= .seconds(150) && delay <= .seconds(300))
        // A base that is already huge must not overflow while doubling either.
        let large = RetryBackoff.exponential(base: .seconds(Int64.max / 4), cap: .seconds(Int64.max / 2), jitter: false)
        #expect(large.delay(afterAttempt: attempt, random: noRandom) == .seconds(Int64.max / 2))
    }

    @Test func equalJitterStaysBetweenHalfAndFull() {
        let backoff = RetryBackoff.exponential(base: .seconds(2), cap: .seconds(300), jitter: true)
        // attempt 3: the un-jittered step is 8 s.
        #expect(backoff.delay(afterAttempt: 3, random: { 0 }) == .seconds(4))
        #expect(backoff.delay(afterAttempt: 3, random: { 0.5 }) == .seconds(6))
        let nearOne = backoff.delay(afterAttempt: 3, random: { 1.0.nextDown })
        #expect(nearOne <= .seconds(8))
        #expect(nearOne > .milliseconds(7_999))
        // Out-of-range randoms are clamped rather than trusted.
        #expect(backoff.delay(afterAttempt: 3, random: { 7 }) == .seconds(8))
        #expect(backoff.delay(afterAttempt: 3, random: { -1 }) == .seconds(4))
        // At the cap the jitter window is [cap/2, cap].
        #expect(backoff.delay(afterAttempt: 30, random: { 0 }) == .seconds(150))
        #expect(backoff.delay(afterAttempt: 30, random: { 1.0.nextDown }) <= .seconds(300))
    }

    @Test func realRandomJitterStaysInBounds() {
        let backoff = RetryBackoff.default
        for attempt in 1...20 {
            let step = min(Duration.seconds(1) * (1 << (attempt - 1)), .seconds(300))
            let delay = backoff.delay(afterAttempt: attempt)
            #expect(delay >= step / 2 && delay <= step, "attempt \(attempt): \(delay)")
        }
    }

    @Test func defaultPolicy() {
        #expect(RetryBackoff.default == .exponential(base: .seconds(1), cap: .seconds(300), jitter: true))
        #expect(RetryBackoff.exponential(base: .seconds(1), cap: .seconds(300)) == .default)
    }

    @Test(arguments: [
        RetryBackoff.fixed(delay: .milliseconds(5_000)),
        .fixed(delay: .zero),
        .exponential(base: .milliseconds(1_500), cap: .seconds(90), jitter: false),
        .default,
    ])
    func codableRoundTrip(backoff: RetryBackoff) throws {
        let data = try JSONEncoder().encode(backoff)
        #expect(try JSONDecoder().decode(RetryBackoff.self, from: data) == backoff)
    }

    @Test func jsonShape() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let exponential = try encoder.encode(RetryBackoff.default)
        #expect(String(decoding: exponential, as: UTF8.self)
            == #"{"base_ms":1000,"cap_ms":300000,"jitter":true,"kind":"exponential"}"#)
        let fixed = try encoder.encode(RetryBackoff.fixed(delay: .seconds(5)))
        #expect(String(decoding: fixed, as: UTF8.self) == #"{"delay_ms":5000,"kind":"fixed"}"#)
    }

    @Test func decodesHandWrittenJSON() throws {
        let decoder = JSONDecoder()
        func decode(_ json: String) throws -> RetryBackoff {
            try decoder.decode(RetryBackoff.self, from: Data(json.utf8))
        }
        #expect(try decode(#"{"kind":"fixed","delay_ms":250}"#) == .fixed(delay: .milliseconds(250)))
        // `jitter` may be omitted and defaults to true, like the enum case.
        #expect(try decode(#"{"kind":"exponential","base_ms":10,"cap_ms":20}"#)
            == .exponential(base: .milliseconds(10), cap: .milliseconds(20), jitter: true))
        #expect(throws: DecodingError.self) { try decode(#"{"kind":"linear","delay_ms":1}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"kind":"fixed"}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"kind":"fixed","delay_ms":-1}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"kind":"fixed","delay_ms":1.5}"#) }
    }

    @Test func millisecondsTruncateAndClamp() {
        #expect(Duration.milliseconds(1_234).jobqMilliseconds == 1_234)
        #expect(Duration.microseconds(1_999).jobqMilliseconds == 1)
        #expect(Duration.seconds(Int64.max).jobqMilliseconds == Int64.max)
        #expect(Duration.seconds(Int64.min).jobqMilliseconds == Int64.min)
        #expect(Duration.milliseconds(-1_500).jobqMilliseconds == -1_500)
    }
}
