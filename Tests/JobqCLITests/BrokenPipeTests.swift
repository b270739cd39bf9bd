import Foundation
import JobqCore
import JobqTestSupport
import Testing

@testable import JobqCLI

/// `jobq … | head -1`: no backtrace, exit 141 (docs/cli.md, exit codes).
@Suite("Output into a closed pipe", .enabled(if: redisAvailable))
struct BrokenPipeTests {
    /// Runs `jobq ARGS | head -1` through /bin/sh and returns head's output, jobq's stderr and
    /// jobq's exit status (the shell writes it to a file: POSIX sh has no PIPESTATUS).
    func runIntoHead(_ cli: CLIHarness, _ arguments: [String], head: String = "-1") async throws -> (head: String, stderr: String, status: Int32) {
        let directory = NSTemporaryDirectory() + "jobq-epipe-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let full = [JobqBinary.path] + arguments + ["--redis", cli.server.url, "--namespace", cli.namespace]
        let quoted = full.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let script = "{ \(quoted) 2>'\(directory)/err'; echo $? >'\(directory)/status'; } | head \(head) >'\(directory)/head'"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning {
            process.terminate()
            Issue.record("jobq \(arguments) | head -1 did not finish")
        }
        func read(_ name: String) throws -> String { try String(contentsOfFile: directory + "/" + name, encoding: .utf8) }
        let status = try read("status").trimmingCharacters(in: .whitespacesAndNewlines)
        return (try read("head"), try read("err"), Int32(status) ?? -1)
    }

    @Test func aClosedPipeEndsQuietlyWithStatus141() async throws {
        let cli = try await CLIHarness.make()
        // 2,000 tasks: far more output than a pipe buffer (64 KiB) plus what head reads, so jobq
        // is still writing when head exits, whatever the scheduling.
        let specs = (0..<2_000).map { TaskSpec(id: "t\($0)", handler: "jobq.noop", title: String(repeating: "x", count: 40)) }
        // In batches: one short script each on the shared server (no long-running script).
        for start in stride(from: 0, to: specs.count, by: 250) {
            _ = try await cli.coordinator.tasks.submit(Array(specs[start..<(start + 250)]), workflow: "RUN")
        }
        // (--json output is one line: head -1 would read all of it; -c 100 closes early.)
        for (arguments, head) in [(["status", "RUN"], "-1"), (["list", "--limit", "2000"], "-1"), (["list", "--limit", "2000", "--json"], "-c 100")] {
            let run = try await runIntoHead(cli, arguments, head: head)
            #expect(!run.head.isEmpty, "\(arguments)")
            #expect(run.stderr.isEmpty, "\(arguments): \(run.stderr.prefix(400))")
            #expect(run.status == Console.brokenPipeStatus, "\(arguments): exit \(run.status)")
        }
    }
}
