import Foundation
import Testing

/// One sample of a Prometheus text exposition: `name{label="value",…} number`.
struct Sample: Hashable {
    let name: String
    let labels: [String: String]
    let value: Double
}

/// The samples of an exposition, parsed independently of the renderer (comments skipped).
func samples(_ text: String) -> [Sample] {
    text.split(separator: "\n").compactMap { line -> Sample? in
        guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let series = line[..<space]
        guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
        var labels: [String: String] = [:]
        for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
        }
        return Sample(name: String(series[..<brace]), labels: labels, value: value)
    }
}

extension Array where Element == Sample {
    /// The value of the one sample of `name` with exactly `labels`; records an issue when there
    /// is none or more than one.
    func value(_ name: String, _ labels: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) -> Double? {
        let found = filter { $0.name == name && $0.labels == labels }
        #expect(found.count == 1, "\(name)\(labels): \(found.count) samples", sourceLocation: sourceLocation)
        return found.first?.value
    }
}

/// The package's root directory (for the docs the tests check).
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
