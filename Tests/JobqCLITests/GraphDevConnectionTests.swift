import Foundation
import JobqCore
import JobqTestSupport
import Testing

@Suite("graph", .enabled(if: redisAvailable))
struct GraphCommandTests {
    func seed(_ cli: CLIHarness) async throws {
        let path = try CLIHarness.temporaryFile("flow.yaml", """
            workflow: g
            tasks:
              - {id: a, handler: h, title: "Start \\"here\\""}
              - {id: b, handler: h, after: [a]}
              - {id: c, handler: h, after: [a]}
            """)
        #expect(try await cli.run(["submit", "-f", path, "--run", "g"]).status == 0)
        try await cli.complete("g/a")
    }

    @Test func dotHasStatesAsFillColours() async throws {
        let cli = try await CLIHarness.make()
        try await seed(cli)
        let result = try await cli.run(["graph", "g"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("digraph \"g\" {"))
        #expect(result.stdout.contains(#""g/a" -> "g/b";"#), "\(result.stdout)")
        #expect(result.stdout.contains(#""g/a" -> "g/c";"#))
        #expect(result.stdout.contains(##""fillcolor"="#a1d99b""##))  // DONE
        #expect(result.stdout.contains(##""fillcolor"="#e0e0e0""##))  // PENDING
        #expect(result.stdout.contains(#"Start \"here\""#))
        // A task id draws its workflow.
        let viaTask = try await cli.run(["graph", "g/b"])
        #expect(viaTask.stdout == result.stdout, "\(viaTask.stderr)")
    }

    @Test func svgWithGraphvizOrAClearError() async throws {
        let cli = try await CLIHarness.make()
        try await seed(cli)
        let output = NSTemporaryDirectory() + "jobq-graph-test-\(UInt32.random(in: 0...UInt32.max)).svg"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let hasDot = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/dot")
        } ?? false
        if hasDot {
            let result = try await cli.run(["graph", "g", "--format", "svg", "-o", output])
            #expect(result.status == 0, "\(result.stderr)")
            let svg = try String(contentsOfFile: output, encoding: .utf8)
            #expect(svg.contains("<svg"))
        }
        // Without dot on PATH: exit 69, code graphviz_missing, nothing written.
        let missing = try await cli.run(["graph", "g", "--format", "svg", "-o", output + ".2", "--json"], environment: ["PATH": "/nonexistent"])
        #expect(missing.status == 69)
        #expect(try missing.jsonError()["code"] as? String == "graphviz_missing")
        #expect((try missing.jsonError()["message"] as? String)?.contains("install graphviz") == true)
        #expect(!FileManager.default.fileExists(atPath: output + ".2"))
        let png = try await cli.run(["graph", "g", "--format", "png"])
        #expect(png.status == 64)
    }

    @Test func graphOfAFileNeedsNoRedis() async throws {
        let path = try CLIHarness.temporaryFile("flow.yaml", "workflow: offline\ntasks:\n  - {id: x, handler: h}\n  - {id: y, handler: h2, after: [x]}\n")
        let result = try await CLIHarness.execute(["graph", "-f", path, "--redis", "redis://127.0.0.1:1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""x" -> "y";"#))
        #expect(result.stdout.contains("h2"))
    }
}

@Suite("dev", .enabled(if: redisAvailable))
struct DevCommandTests {
    @Test func runsACommandAgainstAPrivateServer() async throws {
        let script = """
            set -e
            case "$JOBQ_REDIS_URL" in unix://*) ;; *) exit 9 ;; esac
            "$JOBQ" submit jobq.noop --id dev-task >/dev/null
            "$JOBQ" status dev-task --json
            """
        let result = try await CLIHarness.execute(["dev", "--", "/bin/sh", "-c", script], environment: ["JOBQ": JobqBinary.path], timeout: .seconds(60))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""id":"dev-task""#))
        let status = try await CLIHarness.execute(["dev", "--", "/bin/sh", "-c", "exit 3"])
        #expect(status.status == 3)
    }

    @Test func printsTheURLAndStopsOnSIGTERM() async throws {
        let dev = try await RunningCLI.start(["dev", "--json"])
        // The first line is the JSON with the URL.
        let first = await dev.firstOutput()
        let line = first.split(separator: "\n").first.map(String.init) ?? ""
        let info = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(first)")
        let url = try #require(info["url"] as? String)
        let directory = try #require(info["directory"] as? String)
        #expect(url.hasPrefix("unix:///"))
        let ping = try await CLIHarness.execute(["stats", "--json", "--redis", url])
        #expect(ping.status == 0, "\(ping.stderr)")
        dev.process.terminate()
        let result = await dev.finish(timeout: .seconds(15))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory), "temp directory left behind")
    }
}

@Suite("Connection options and errors", .enabled(if: redisAvailable))
struct ConnectionTests {
    @Test func unreachableRedisExits69() async throws {
        let result = try await CLIHarness.execute(["list", "--redis", "unix:///nonexistent/redis.sock", "--json"])
        #expect(result.status == 69)
        let error = try result.jsonError()
        #expect(error["code"] as? String == "redis_unavailable")
        #expect((error["message"] as? String)?.contains("JOBQ_REDIS_URL") == true)
    }

    @Test func badURLAndNamespaceExit64() async throws {
        let url = try await CLIHarness.execute(["list", "--redis", "http://x"])
        #expect(url.status == 64)
        #expect(url.stderr.contains("[invalid_connection]"))
        let namespace = try await CLIHarness.execute(["list", "--redis", "unix:///x.sock", "--namespace", "a:b"])
        #expect(namespace.status == 64)
        #expect(namespace.stderr.contains("namespace"))
    }

    @Test func environmentVariablesAreUsed() async throws {
        let cli = try await CLIHarness.make()
        let result = try await CLIHarness.execute(["submit", "h", "--id", "via-env"], environment: ["JOBQ_REDIS_URL": cli.server.url, "JOBQ_NAMESPACE": cli.namespace])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try await cli.state("via-env") == .pending)
    }

    @Test func passwordFromFileOrEnvironment() async throws {
        try await withRedisServer(extraConfig: ["requirepass s3cret-pw"]) { server in
            let file = try CLIHarness.temporaryFile("pw", "s3cret-pw\n")
            let withFile = try await CLIHarness.execute(["stats", "--json", "--redis", server.url, "--password-file", file])
            #expect(withFile.status == 0, "\(withFile.stderr)")
            let withEnv = try await CLIHarness.execute(["stats", "--json", "--redis", server.url], environment: ["JOBQ_REDIS_PASSWORD": "s3cret-pw"])
            #expect(withEnv.status == 0, "\(withEnv.stderr)")
            let without = try await CLIHarness.execute(["stats", "--redis", server.url])
            #expect(without.status == 69)
            #expect(without.stderr.contains("password"))
            let missingFile = try await CLIHarness.execute(["stats", "--redis", server.url, "--password-file", "/nonexistent/pw"])
            #expect(missingFile.status == 66)
        }
    }
}

@Suite("Help")
struct HelpTests {
    static let commands = [
        "submit", "runs", "status", "list", "wait", "watch", "logs", "result", "cancel", "retry", "rerun", "graph",
        "stats", "queues", "workers", "pause", "resume", "purge", "dev",
    ]

    @Test func rootHelpListsEveryCommandAndTheExitCodes() async throws {
        let result = try await CLIHarness.execute(["--help"])
        #expect(result.status == 0)
        for command in Self.commands { #expect(result.stdout.contains("  \(command) "), "\(command) missing from --help") }
        for code in ["64", "65", "66", "69", "75"] { #expect(result.stdout.contains("  \(code) ")) }
        #expect(result.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 })
    }

    @Test(arguments: commands)
    func everyCommandHasHelpWithExamples(_ command: String) async throws {
        let result = try await CLIHarness.execute([command, "--help"], environment: ["COLUMNS": "80"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("OVERVIEW:"))
        #expect(result.stdout.contains("  jobq \(command)"), "\(command) --help has no example")
        // (The USAGE line is ArgumentParser's own and may be longer.)
        let long = result.stdout.split(separator: "\n").filter { $0.count > 80 && !$0.hasPrefix("USAGE:") }
        #expect(long.isEmpty, "\(command) --help is wider than 80 columns: \(long)")
    }
}
