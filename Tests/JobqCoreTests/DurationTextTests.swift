import JobqCore
import Testing

/// The one duration grammar of `jobq`, `jobq-worker` and the worker's config file.
@Suite("DurationText grammar")
struct DurationTextTests {
    static let accepted: [(String, Duration)] = [
        ("250ms", .milliseconds(250)),
        ("30s", .seconds(30)),
        ("30sec", .seconds(30)),
        ("1.5s", .milliseconds(1500)),
        (".5s", .milliseconds(500)),
        ("2.s", .seconds(2)),
        ("5m", .seconds(300)),
        ("5min", .seconds(300)),
        ("2h", .seconds(7200)),
        ("1d", .seconds(86_400)),
        ("2d", .seconds(172_800)),
        ("1h30m", .seconds(5400)),
        ("1m30s", .seconds(90)),
        ("1m 30s", .seconds(90)),
        ("2d12h", .seconds(216_000)),
        ("1h2m3s4ms", .milliseconds(3_723_004)),
        ("45", .seconds(45)),
        ("0.25", .milliseconds(250)),
        ("0", .zero),
        ("0s", .zero),
        ("  10S ", .seconds(10)),
        ("1H30M", .seconds(5400)),
        ("30 s", .seconds(30)),
        ("250us", .microseconds(250)),
        ("250µs", .microseconds(250)),
        ("100ns", .nanoseconds(100)),
        ("0.1s", .milliseconds(100)),
        ("36500d", .seconds(36_500 * 86_400)),
    ]

    static let rejected: [String] = [
        "", " ", "soon", "1x", "-1s", "+1s", "1e3", "1e3s", "inf", "nan", "s", "ms", ".", ".s",
        "1..5s", "1.2.3s", "1h30", "30m1h", "1s1s", "1m1min", "1 h 30", "0x10", "1,5s",
        "36501d", "99999999999999999999s", "1 2s", "1w",
    ]

    @Test(arguments: accepted)
    func accepts(_ text: String, _ expected: Duration) {
        #expect(DurationText.parse(text) == expected, "\(text)")
    }

    @Test(arguments: rejected)
    func rejects(_ text: String) {
        #expect(DurationText.parse(text) == nil, "\(text) was accepted as \(String(describing: DurationText.parse(text)))")
    }

    @Test func rejectionsNameTheSettingWithAStableCode() throws {
        #expect {
            try DurationText.parse("1x", setting: "--lease")
        } throws: { error in
            guard let error = error as? JobqError else { return false }
            return error.code == .invalidOption && error.subject == "--lease"
                && error.message.hasPrefix(#"--lease: "1x" is not a duration; use e.g. 30s, 1m30s, 250ms"#)
        }
        #expect(try DurationText.parse("1h30m", setting: "--lease") == .seconds(5400))
    }

    @Test func formatting() {
        #expect(DurationText.format(milliseconds: 0) == "0ms")
        #expect(DurationText.format(milliseconds: 999) == "999ms")
        #expect(DurationText.format(milliseconds: 1234) == "1.2s")
        #expect(DurationText.format(milliseconds: 9_999) == "10.0s")
        #expect(DurationText.format(milliseconds: 45_000) == "45s")
        #expect(DurationText.format(milliseconds: 185_000) == "3m05s")
        #expect(DurationText.format(milliseconds: 7_800_000) == "2h10m")
        #expect(DurationText.format(milliseconds: 273_600_000) == "3d4h")
        #expect(DurationText.format(milliseconds: -5) == "0ms")
        #expect(DurationText.format(.seconds(5400)) == "1h30m")
        // Whole units carry no zero tail, and every form reads back as itself.
        #expect(DurationText.format(milliseconds: 2000) == "2s")
        #expect(DurationText.format(.seconds(31 * 60)) == "31m")
        #expect(DurationText.format(.seconds(7200)) == "2h")
        #expect(DurationText.format(.seconds(7 * 86_400)) == "7d")
        for milliseconds: Int64 in [2000, 185_000, 1_860_000, 7_200_000, 7_800_000, 273_600_000, 604_800_000] {
            #expect(DurationText.parse(DurationText.format(milliseconds: milliseconds)).map { $0 == .milliseconds(milliseconds) } == true)
        }
        // What the formatter prints (from a minute on) parses back to the same value.
        for ms: Int64 in [60_000, 185_000, 7_800_000, 273_600_000] {
            #expect(DurationText.parse(DurationText.format(milliseconds: ms)) == .milliseconds(ms))
        }
    }
}
