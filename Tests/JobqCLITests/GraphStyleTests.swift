import Foundation
import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// `jobq graph`: `always` edges and skipped tasks are drawn distinctly, with a legend; `--json` is a JSON graph.
@Suite("graph: policies, skipped tasks, legend, JSON", .enabled(if: redisAvailable))
struct GraphStyleTests {
    func seedPolicies(_ cli: CLIHarness) async throws {
        let path = try CLIHarness.temporaryFile("flow.yaml", """
            workflow: pol
            tasks:
              - {id: a, handler: jobq.echo}
              - {id: s, handler: jobq.noop}
              - {id: b, handler: jobq.noop, after: [a]}
              - {id: c, handler: jobq.noop, after: [{id: a, policy: always}, s]}
            """)
        let submitted = try await cli.run(["submit", "-f", path, "--run", "pol"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        try await cli.complete("pol/a")
        let lease = try await cli.claim("pol/s")
        _ = try await cli.coordinator.leases.complete([Completion(lease: lease, result: Array("null".utf8), skipped: true)])
    }

    @Test func graphDrawsPoliciesAndSkippedTasksDistinctlyWithALegend() async throws {
        let cli = try await CLIHarness.make()
        try await seedPolicies(cli)
        let result = try await cli.run(["graph", "pol"])
        #expect(result.status == 0, "\(result.stderr)")
        let dot = result.stdout
        #expect(dot.contains(#""pol/a" -> "pol/b";"#), "success edges stay plain: \(dot)")
        #expect(dot.contains(#""pol/a" -> "pol/c" ["label"="always", "style"="dashed"];"#), "\(dot)")
        #expect(dot.contains(#""pol/s" -> "pol/c";"#))
        // s is SKIPPED: its own state, fill and border; a is plain DONE.
        let sLine = try #require(dot.split(separator: "\n").first { $0.hasPrefix(#"  "pol/s" ["#) })
        #expect(sLine.contains("SKIPPED") && !sLine.contains("DONE") && sLine.contains(GraphCommand.skippedFill) && sLine.contains("dashed"), "\(sLine)")
        let aLine = try #require(dot.split(separator: "\n").first { $0.hasPrefix(#"  "pol/a" ["#) })
        #expect(aLine.contains(GraphCommand.fill(.done)) && !aLine.contains("skipped"), "\(aLine)")
        #expect(aLine.contains(#""label"="a\nDONE""#), "a run's task is labelled by its key: \(aLine)")
        // The legend names every state (SKIPPED among them) and every policy.
        #expect(dot.contains(#"subgraph "cluster_legend""#))
        for label in TaskState.allCases.map(\.rawValue) + ["success: runs if it succeeded (or was skipped)", "always: runs once it has ended", "failure: runs only if it failed"] {
            #expect(dot.contains(#""label"="\#(label)""#), "legend lacks \(label)")
        }
        if let dotTool = Subprocess.which("dot") {
            // graphviz accepts it.
            let path = try CLIHarness.temporaryFile("g.dot", dot)
            let status = try await Subprocess.run(dotTool, ["-Tsvg", "-o", path + ".svg", path], outputPath: path + ".log")
            #expect(status == 0, "\((try? String(contentsOfFile: path + ".log", encoding: .utf8)) ?? "")")
        }
    }

    @Test func graphJSONIsAGraphNotDOT() async throws {
        let cli = try await CLIHarness.make()
        try await seedPolicies(cli)
        let result = try await cli.run(["graph", "pol", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try result.json()
        #expect(json["workflow"] as? String == "pol")
        let nodes = try #require(json["nodes"] as? [[String: Any]])
        #expect(nodes.map { $0["id"] as? String } == ["pol/a", "pol/s", "pol/b", "pol/c"])
        let s = try #require(nodes.first { $0["id"] as? String == "pol/s" })
        #expect(s["state"] as? String == "SKIPPED")
        #expect(s["skipped"] as? Bool == true)
        #expect(s["handler"] as? String == "jobq.noop")
        #expect(nodes.first { $0["id"] as? String == "pol/a" }?["skipped"] as? Bool == false)
        let edges = try #require(json["edges"] as? [[String: Any]])
        let triples = Set(edges.map { "\($0["from"] as? String ?? "")>\($0["to"] as? String ?? ""):\($0["policy"] as? String ?? "")" })
        #expect(triples == ["pol/a>pol/b:success", "pol/a>pol/c:always", "pol/s>pol/c:success"])

        // A file: no states, the same edges.
        let path = try CLIHarness.temporaryFile("f.yaml", "tasks:\n  - {id: x, handler: h}\n  - {id: y, handler: h2, after: [{id: x, policy: always}]}\n")
        let file = try await CLIHarness.execute(["graph", "-f", path, "--json"]).json()
        let fileNodes = try #require(file["nodes"] as? [[String: Any]])
        #expect(fileNodes.count == 2)
        #expect(fileNodes[0]["state"] is NSNull)
        #expect((file["edges"] as? [[String: Any]])?.first?["policy"] as? String == "always")
    }
}
