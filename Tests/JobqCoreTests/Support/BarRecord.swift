/// What a bounded-script test saw (BoundedScriptTests.Server.calls): per operation its longest
/// script call, for the printed report, and every call over the 10 ms bar, for the verdict.
struct BarRecord {
    var violations: [String] = []
    var report: [String] = []

    mutating func record(_ operation: String, _ calls: (scripts: [(String, Int)], other: (String, Int))) {
        let longest = calls.scripts.first ?? ("", 0)
        report.append("\(operation): longest \(longest.0) \(longest.1) µs")
        violations += calls.scripts.filter { $0.1 >= BoundedScriptTests.barMicroseconds }.map { "\(operation): \($0.0) took \($0.1) µs" }
    }
}
