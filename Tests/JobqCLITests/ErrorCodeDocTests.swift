import Foundation
import JobqCore
import Testing

@testable import JobqCLI

/// docs/cli.md's table of error codes must list every code the engine and the CLI can report,
/// each in the row of the exit status the CLI really gives it.
@Suite("docs/cli.md error codes")
struct ErrorCodeDocTests {
    static func read(_ path: String) throws -> String {
        try String(contentsOfFile: JobqBinary.packageRoot + "/" + path, encoding: .utf8)
    }

    /// Every `Code(rawValue: "…")` declared in the engine's and the CLI's sources.
    static func declaredCodes() throws -> [String] {
        let sources = try read("Sources/JobqCore/Model/JobqError.swift") + read("Sources/JobqCLI/Output/ExitStatus.swift")
        let pattern = try NSRegularExpression(pattern: #"Code\(rawValue: "([a-z_]+)"\)"#)
        let matches = pattern.matches(in: sources, range: NSRange(sources.startIndex..., in: sources))
        return matches.compactMap { Range($0.range(at: 1), in: sources).map { String(sources[$0]) } }
    }

    @Test func everyErrorCodeIsDocumentedWithItsExitStatus() throws {
        let codes = try Self.declaredCodes()
        #expect(codes.count >= 25, "\(codes)")
        #expect(codes.contains("unsafe_redis"))
        let doc = try Self.read("docs/cli.md")
        let table = doc.components(separatedBy: "| error code | exit |").dropFirst().first ?? ""
        let rows = table.split(separator: "\n").prefix { $0.hasPrefix("|") }
        for code in codes {
            let matching = rows.filter { $0.contains("`\(code)`") }
            guard let row = matching.first else {
                Issue.record("error code \(code) is not in docs/cli.md's table of error codes")
                continue
            }
            #expect(matching.count == 1, "\(code) is in more than one row")
            let exit = row.split(separator: "|").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            let actual = ExitStatus(for: JobqError.Code(rawValue: code)).rawValue
            #expect(exit == String(actual), "\(code): docs say exit \(exit), the CLI exits \(actual)")
        }
    }

    @Test func everyExitStatusIsInTheExitCodeTable() throws {
        let doc = try Self.read("docs/cli.md")
        for status in ExitStatus.allCases {
            #expect(doc.contains("| \(status.rawValue) |"), "exit status \(status.rawValue) is not in docs/cli.md")
        }
    }
}
