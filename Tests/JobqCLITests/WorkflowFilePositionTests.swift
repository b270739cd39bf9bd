import Foundation
import JobqCore
import Testing

@testable import JobqCLI

/// Positions in large workflow files: reading stays linear (positions are tracked forward, not
/// rescanned from byte 0) and errors deep in the file still name the right line and column.
@Suite("Workflow file positions in large files")
struct WorkflowFilePositionTests {
    /// A JSON workflow of `count` tasks, one task per line (line 3 + i holds task i), with a
    /// non-ASCII title so that columns count characters, not bytes.
    static func json(count: Int, bad: Int? = nil) -> String {
        var lines = ["{", #"  "tasks": ["#]
        for index in 0..<count {
            let handler = index == bad ? "true" : #""h""#
            let after = index > 0 ? #", "after": ["t\#(index - 1)"]"# : ""
            lines.append(#"    {"title": "é\#(index)", "id": "t\#(index)", "handler": \#(handler)\#(after)}"# + (index == count - 1 ? "" : ","))
        }
        lines += ["  ]", "}"]
        return lines.joined(separator: "\n")
    }

    @Test func errorDeepInALargeJSONFileNamesItsLineAndColumn() {
        let bad = 29_999
        let text = Self.json(count: 30_000, bad: bad)
        do {
            _ = try WorkflowFile.parse(Array(text.utf8), name: "big.json")
            Issue.record("a non-string handler was accepted")
        } catch {
            // Task i is on line 3 + i; `true` starts after `    {"title": "é29999", "id": "t29999", "handler": `.
            let prefix = #"    {"title": "é\#(bad)", "id": "t\#(bad)", "handler": "#
            #expect(error.message.hasPrefix("big.json:\(3 + bad):\(prefix.count + 1): "), "\(error.message)")
            #expect(error.message.contains("`handler` must be a name"))
        }
    }

    @Test func everyNodeOfALargeJSONFileHasTheSamePositionAsARescan() throws {
        let text = Self.json(count: 200)
        let bytes = Array(text.utf8)
        let root = try DocumentReader.readJSON(bytes)
        let parsed = try JSONValue.parseLocated(bytes)
        // Walk in pre-order, as the reader does, and compare with the reference (rescan) positions.
        let expected = parsed.positions.map { JSONValue.lineAndColumn(of: $0, in: bytes) }
        var stack = [root]
        var checked = 0
        while let node = stack.popLast() {
            guard checked < expected.count else { break }
            let want = expected[checked]
            #expect(node.line == want.line && node.column == want.column, "node \(checked)")
            checked += 1
            switch node.value {
            case .sequence(let items): stack += items.reversed()
            case .mapping(let pairs): stack += pairs.map(\.value).reversed()
            case .scalar, .retval: break
            }
        }
        #expect(checked == parsed.positions.count)
        #expect(stack.isEmpty)
    }

    @Test func aLargeFileParsesCompletely() throws {
        let file = try WorkflowFile.parse(Array(Self.json(count: 20_000).utf8), name: "big.json")
        #expect(file.entries.count == 20_000)
        #expect(file.entries.last?.line == 3 + 19_999)
        #expect(file.entries.last?.prerequisiteLines["t19998"]?.line == 3 + 19_999)
    }

    @Test func trackerGoingBackwardsStaysCorrect() {
        var tracker = TextPositionTracker(bytes: Array("ab\ncé\nf".utf8))
        #expect(tracker.lineAndColumn(of: 7) == (3, 1))
        #expect(tracker.lineAndColumn(of: 1) == (1, 2))
        #expect(tracker.lineAndColumn(of: 6) == (2, 3))
        #expect(tracker.lineAndColumn(of: 100) == (3, 2))
    }
}
