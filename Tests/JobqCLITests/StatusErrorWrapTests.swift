import Foundation
import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// `jobq status TASK` wraps a long error to the width instead of cutting it.
@Suite("status TASK: the error in full", .enabled(if: redisAvailable))
struct StatusErrorWrapTests {
    @Test func statusWrapsALongErrorInsteadOfCuttingIt() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "jobq.noop", "--id", "w", "--retries", "0"])
        let words = (1...60).map { "word\($0)" }
        let message = words.joined(separator: " ") + "\nsecond line " + String(repeating: "z", count: 150)
        try await cli.failFinal("w", message: message)
        let result = try await cli.run(["status", "w"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= 80 }, "\(result.stdout)")
        let errorLines = lines.drop { !$0.hasPrefix("error") }.prefix { $0.hasPrefix("error") || $0.hasPrefix("           ") }
        let text = errorLines.map { $0.dropFirst(11) }.joined(separator: " ")
        for word in words { #expect(text.split(separator: " ").contains(Substring(word)), "\(word) missing: \(result.stdout)") }
        #expect(text.contains("second line"))
        #expect(text.replacingOccurrences(of: " ", with: "").contains(String(repeating: "z", count: 150)), "\(result.stdout)")
        // (the attempt history above it shows each attempt's first error line, shortened)
        #expect(!errorLines.contains { $0.contains("…") }, "cut: \(result.stdout)")
    }
}
