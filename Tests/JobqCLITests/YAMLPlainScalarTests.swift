import Foundation
import JobqCore
import Testing

@testable import JobqCLI

/// The fast path for plain YAML scalars must read every scalar exactly as Yams's resolver does.
@Suite("YAML plain scalar fast path")
struct YAMLPlainScalarTests {
    static let samples = [
        "jobq.echo", "t123", "step", "e5", "inf", "nan", "y", "n", "Y", "yes", "Yes", "YES", "no", "NO", "on", "On", "off",
        "OFF", "true", "True", "FALSE", "null", "Null", "NULL", "nil", "None", "x-1", "a_b", "Zz9",
        "0", "1", "42", "123456789", "9223372036854775807", "007", "0x1F", "1_000", "1e3", "1.5",
        "-1", "+1", ".5", "~", "<<", "=", "2024-05-01", "12:30", "1:20", "5m", "250ms", "0.0",
    ]

    @Test func fastPathAgreesWithYamsResolver() throws {
        // All samples as one list, read with and without the fast path.
        let text = "v: [" + Self.samples.joined(separator: ", ") + "]\n"
        let fast = try DocumentReader.readYAML(Array(text.utf8)).json()
        let general = try DocumentReader.readYAML(Array(text.utf8), fastScalars: false).json()
        guard case .object(let fastPairs) = fast, case .array(let fastItems) = fastPairs[0].1,
            case .object(let generalPairs) = general, case .array(let generalItems) = generalPairs[0].1
        else {
            Issue.record("not a list")
            return
        }
        #expect(fastItems.count == Self.samples.count)
        for (index, sample) in Self.samples.enumerated() {
            #expect(fastItems[index] == generalItems[index], "\(sample): \(fastItems[index].rendered()) vs Yams \(generalItems[index].rendered())")
        }
        // The fast path did take most of them.
        #expect(Self.samples.filter { DocumentReader.plainScalar($0) != nil }.count >= 15)
    }

    @Test func knownCases() {
        #expect(DocumentReader.plainScalar("jobq.echo") == .string("jobq.echo"))
        #expect(DocumentReader.plainScalar("42") == .int(42))
        #expect(DocumentReader.plainScalar("yes") == nil)
        #expect(DocumentReader.plainScalar("007") == nil)
        #expect(DocumentReader.plainScalar("1_000") == nil)
        #expect(DocumentReader.plainScalar("1.5") == nil)
    }
}
