import ArgumentParser
import Dispatch
import Foundation
import JobqCore

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run a private, throw-away redis-server for trying jobq out.",
        discussion: """
            Starts redis-server in a fresh temporary directory, listening only on a Unix \
            socket (no TCP port, nothing persisted), and prints its URL and how to point \
            workers and the CLI at it. It runs until Ctrl-C, then the server and its data are \
            removed.

              jobq dev
              # in other terminals, after the printed export:
              export JOBQ_REDIS_URL=unix:///tmp/jobq-dev-…/redis.sock
              jobq-worker --enable-test-handlers
              run=$(jobq submit -f examples/demo-workflow.yaml) && jobq watch "$run"

            With a command after `--`, runs it with JOBQ_REDIS_URL set instead, then stops the \
            server; the exit status is the command's:

              jobq dev -- sh -c 'jobq-worker --enable-test-handlers & jobq submit -f flow.yaml'
              jobq dev -- swift test

            Needs redis-server on PATH (or $REDIS_SERVER); exit status 69 without it.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Also listen on this TCP port of 127.0.0.1 (default: Unix socket only).", valueName: "port"))
    var port: Int?

    @Argument(parsing: .postTerminator, help: ArgumentHelp("A command to run with JOBQ_REDIS_URL set (after --).", valueName: "command"))
    var command: [String] = []

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be from 1 to 65535") }
    }

    func run() async throws {
        let json = output.json
        try await CommandRunner.runOffline(json: json) {
            let server = try await DevServer.start(port: port)
            // Ctrl-C and SIGTERM stop the server (and, with a command, reach the command too).
            let stop = SignalWaiter(signals: [SIGINT, SIGTERM])
            if !command.isEmpty {
                guard let executable = Subprocess.which(command[0]) else {
                    await server.stop()
                    throw JobqError(.fileNotFound, "\(command[0]): command not found on PATH")
                }
                let child = try Subprocess.spawn(executable, Array(command.dropFirst()), environment: ["JOBQ_REDIS_URL": server.url])
                let status = await child.waitForExit()
                stop.cancel()
                await server.stop()
                if status != 0 { throw ExitCode(status) }
                return .ok
            }
            if json {
                Console.out(JSONValue.object([
                    ("url", .string(server.url)), ("socket", .string(server.socket)), ("tcp_port", .optional(port)),
                    ("pid", .int(server.process.pid)), ("directory", .string(server.directory)),
                ]).rendered())
            } else {
                let terminal = Terminal.current
                Console.out(terminal.paint("jobq dev: redis-server running (pid \(server.process.pid))", .bold))
                Console.out("  url:  \(server.url)" + (port.map { "  (and redis://127.0.0.1:\($0))" } ?? ""))
                Console.out("  data: \(server.directory) (deleted on exit)")
                Console.out("")
                Console.out("Point workers and the CLI at it, in each terminal:")
                Console.out("  export JOBQ_REDIS_URL=\(server.url)")
                Console.out("  jobq-worker --enable-test-handlers")
                Console.out(#"  run=$(jobq submit -f examples/demo-workflow.yaml) && jobq watch "$run""#)
                Console.out("")
                Console.out("Press Ctrl-C to stop.")
            }
            let reason = await stop.waitOrExit(of: server.process)
            stop.cancel()
            await server.stop()
            switch reason {
            case .signal:
                if !json { Console.out("\njobq dev: stopped; data removed") }
                return .ok
            case .exited(let status):
                throw JobqError(.redisUnavailable, "redis-server exited on its own (status \(status)); its log was in \(server.directory)/redis.log")
            }
        }
    }
}
