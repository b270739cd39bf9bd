import ArgumentParser
import Jobq
import JobqCore

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a task's log lines (what its handler logged); -f follows them.",
        discussion: """
            Each task keeps its newest \(LeaseStore.logLinesKept) log lines, for as long as the \
            task itself is kept.

              jobq logs 01J0ABCD…
              jobq logs 01J0ABCD… -f          # until the task has finished
              jobq logs 01J0ABCD… --tail 20

            With -f, new lines are printed as they arrive and the command ends when the task \
            has ended (exit 0 whatever its outcome; use `jobq wait` for that).
            """
    )

    @Argument(help: ArgumentHelp("The task id (ID or RUN/TASK), or a run id: every task's lines, each prefixed with its key.", valueName: "id|run"))
    var id: String

    @Flag(name: [.short, .long], help: "Keep printing new lines until the task has ended.")
    var follow = false

    @Option(name: .long, help: ArgumentHelp("Only the last N lines (then follow, with -f).", valueName: "n"))
    var tail: Int?

    @Option(name: .long, help: ArgumentHelp("With -f: how often to look for new lines while the task runs (default: 1s).", valueName: "duration"))
    var interval: DurationArgument?

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func validate() throws {
        if let tail, tail < 0 { throw ValidationError("--tail must be 0 or more") }
    }

    func run() async throws {
        let json = output.json
        try await CommandRunner.run(connection, json: json) { client in
            if case .workflow(let run) = try await Target.resolve(id, client: client) {
                try await runLogs(run, client: client)
                return .ok
            }
            var info = try await client.status(id)
            var lines = try await client.logs(of: id)
            var printed = 0
            if let tail { printed = max(0, lines.count - tail) }
            func emit(_ lines: [String], from start: Int) {
                for (offset, line) in lines[start...].enumerated() {
                    if json {
                        Console.out(JSONValue.object([("id", .string(id)), ("n", .int(start + offset)), ("text", .string(line))]).rendered())
                    } else {
                        Console.out(line)
                    }
                }
            }
            guard follow else {
                if json && !follow {
                    Console.out(JSONValue.object([
                        ("id", .string(id)), ("state", .optional(info.state?.rawValue)),
                        ("lines", .array(lines[printed...].map { .string($0) })),
                    ]).rendered(pretty: Terminal.current.isTTY))
                } else {
                    emit(lines, from: printed)
                }
                return .ok
            }
            emit(lines, from: printed)
            printed = lines.count
            var stream = try await EventStream.open(client)
            let refresh = interval?.duration ?? .seconds(1)
            while info.state?.isTerminal != true {
                _ = try await stream.next(block: info.state == .running ? refresh : .seconds(5))
                info = try await client.status(id)
                lines = try await client.logs(of: id)
                if lines.count < printed { printed = 0 }  // re-opened by retry, or trimmed: start over
                if lines.count > printed {
                    emit(lines, from: printed)
                    printed = lines.count
                }
            }
            return .ok
        }
    }

    /// `jobq logs RUN [-f]`: the lines of every task of the run, in topological order, each
    /// prefixed with the task's key (`--json`: one object per line with `id`, `key`, `n`, `text`);
    /// with -f, new lines as they come until the run has ended. Tasks that ended and were printed
    /// are not read again.
    private func runLogs(_ run: String, client: JobqClient) async throws {
        var printed: [String: Int] = [:]
        var finished: Set<String> = []
        var stream = try await EventStream.open(client)
        var firstPass = true
        while true {
            let record = try await client.run(run)
            let tasks = Snapshot.topological(try await client.tasks(ofRun: run))
            for task in tasks where !finished.contains(task.id) {
                let lines = try await client.logs(of: task.id)
                var start = printed[task.id] ?? (firstPass && tail != nil ? max(0, lines.count - (tail ?? 0)) : 0)
                if lines.count < start { start = 0 }
                let key = RunScope.key(of: task.id)
                for (offset, line) in lines[start...].enumerated() {
                    if output.json {
                        Console.out(JSONValue.object([("id", .string(task.id)), ("key", .string(key)), ("n", .int(start + offset)), ("text", .string(line))]).rendered())
                    } else {
                        Console.out(key + " | " + line)
                    }
                }
                printed[task.id] = lines.count
                if task.state?.isTerminal == true { finished.insert(task.id) }
            }
            firstPass = false
            guard follow, !record.state.isTerminal else { return }
            _ = try await stream.next(block: interval?.duration ?? .seconds(1))
        }
    }
}
