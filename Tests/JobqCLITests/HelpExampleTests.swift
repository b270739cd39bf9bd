import ArgumentParser
import Foundation
import JobqCore
import Testing

@testable import JobqCLI

/// Every example in every command's `--help` must work as written: each `jobq …` invocation in
/// the discussions parses with the real options, payloads of built-in handlers have the shape
/// the handler reads, and the `--json | jq` paths exist in the real output.
@Suite("--help examples")
struct HelpExampleTests {
    /// Every command type with its example lines (indented lines of its discussion that run jobq).
    static var examples: [(command: String, line: String)] {
        var found: [(String, String)] = []
        var commands: [any ParsableCommand.Type] = [RootCommand.self]
        commands += RootCommand.configuration.subcommands
        for command in commands {
            let name = command.configuration.commandName ?? "?"
            for line in command.configuration.discussion.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard line.hasPrefix("  "), trimmed.contains("jobq ") else { continue }
                found.append((name, trimmed))
            }
        }
        return found
    }

    /// Shell words of `line` (single and double quotes; no expansion), with `id=$(…)` made into
    /// a plain command and `"$id"` into a placeholder id.
    static func words(_ line: String) -> [String] {
        var text = line.replacingOccurrences(of: #"\w+=\$\((.*?)\)"#, with: "$1", options: .regularExpression)
        text = text.replacingOccurrences(of: "\"$id\"", with: "01J0ABCD")
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
                inWord = true
            } else if character == " " {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// The `jobq` invocations of a line: split at `|`, `&&`, `>`, `&`, `;`, cut at a `#` comment;
    /// `xargs jobq …` gets a placeholder argument.
    static func invocations(_ line: String) -> [[String]] {
        var result: [[String]] = []
        var segment: [String] = []
        func flush() {
            var words = segment
            segment = []
            var xargs = false
            if words.first == "xargs" {
                words.removeFirst()
                xargs = true
            }
            guard words.first == "jobq" else { return }
            result.append(Array(words.dropFirst()) + (xargs ? ["01J0ABCD"] : []))
        }
        for word in words(line) {
            if word.hasPrefix("#") { break }
            if ["|", "&&", ">", "&", ";"].contains(word) {
                flush()
            } else {
                segment.append(word)
            }
        }
        flush()
        return result
    }

    @Test func thereAreExamples() {
        #expect(Self.examples.count > 40)
        #expect(Self.invocations(#"id=$(jobq submit jobq.sleep --payload '{"seconds":0.5}') && jobq wait "$id""#)
            == [["submit", "jobq.sleep", "--payload", #"{"seconds":0.5}"#], ["wait", "01J0ABCD"]])
    }

    @Test func everyExampleParsesWithTheRealOptions() {
        for (command, line) in Self.examples {
            for arguments in Self.invocations(line) {
                do {
                    // parseAsRoot also runs the command's validate().
                    _ = try RootCommand.parseAsRoot(arguments)
                } catch {
                    Issue.record("jobq \(command) --help example `\(line)`: \(RootCommand.message(for: error))")
                }
            }
        }
    }

    /// The payload shapes of the built-in test handlers (Sources/JobqWorker/BuiltinHandlers.swift).
    static let builtinPayloadKeys: [String: Set<String>] = [
        "jobq.sleep": ["seconds"],
        "jobq.fail": ["times", "final", "delay_ms"],
        "jobq.progress": ["steps", "interval_ms"],
        "jobq.crash": ["exit_code"],
    ]

    @Test func builtinHandlerPayloadsHaveTheHandlersShape() throws {
        var checked = 0
        for (command, line) in Self.examples {
            for arguments in Self.invocations(line) where arguments.first == "submit" && arguments.count > 1 {
                guard let keys = Self.builtinPayloadKeys[arguments[1]], let index = arguments.firstIndex(of: "--payload"), index + 1 < arguments.count else { continue }
                let payload = try JSONValue.parse(arguments[index + 1])
                guard case .object(let pairs) = payload else {
                    Issue.record("\(command) --help: \(arguments[1]) takes an object: `\(line)`")
                    continue
                }
                for (key, _) in pairs where !keys.contains(key) {
                    Issue.record("\(command) --help: \(arguments[1]) has no field \"\(key)\" (it reads \(keys.sorted())): `\(line)`")
                }
                checked += 1
            }
        }
        #expect(checked >= 1)
    }
}

/// The `--json | jq PATH` examples of the --help texts, against real output.
@Suite("--help examples: jq paths", .enabled(if: redisAvailable))
struct HelpExampleJSONPathTests {
    @Test func theJQPathsOfTheExamplesExist() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.run(["submit", "jobq.noop", "--id", "a", "--workflow", "nightly"])
        _ = try await cli.run(["submit", "jobq.noop", "--id", "b", "--workflow", "nightly", "--after", "a:always"])
        // jobq list --workflow nightly --json | jq -r '.tasks[].id'
        let list = try await cli.run(["list", "--workflow", "nightly", "--json"]).json()
        #expect((list["tasks"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.sorted() == ["a", "b"])
        // jobq status nightly --json | jq '.counts.failed'
        let status = try await cli.run(["status", "nightly", "--json"]).json()
        #expect((status["counts"] as? [String: Any])?["failed"] is Int, "\(status)")
        // jobq stats --json | jq .tasks.pending
        let stats = try await cli.run(["stats", "--json"]).json()
        #expect((stats["tasks"] as? [String: Any])?["pending"] as? Int == 2, "\(stats)")
        // jobq workers --json | jq '.workers[].running'
        let workers = try await cli.run(["workers", "--json"]).json()
        #expect(workers["workers"] is [Any], "\(workers)")
        // jobq graph nightly --json | jq '.edges[] | select(.policy == "always")'
        let graph = try await cli.run(["graph", "nightly", "--json"]).json()
        #expect((graph["edges"] as? [[String: Any]])?.first?["policy"] as? String == "always")
        // jobq pause reports && jobq queues --json (reports is a queue the examples used)
        #expect(try await cli.run(["submit", "h", "--queue", "reports"]).status == 0)
        #expect(try await cli.run(["pause", "reports"]).status == 0)
        // jobq pause --new nightly-exports
        #expect(try await cli.run(["pause", "--new", "nightly-exports"]).status == 0)
        #expect(try await cli.run(["queues", "--json"]).status == 0)
    }
}
