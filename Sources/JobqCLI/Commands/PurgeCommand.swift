import ArgumentParser
import Jobq
import JobqCore

struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete finished task records now, or cancel everything pending on a queue.",
        discussion: """
            --finished deletes the records (state, payload, result, logs, progress) of DONE, \
            FAILED and CANCELLED tasks now, instead of when their retention (--keep, 24h by \
            default) runs out. Running and pending tasks are never touched, and a task re-opened \
            by `jobq retry` meanwhile is kept. Narrow it with --state, --older-than, --workflow.

            --queue Q cancels every PENDING task of queue Q, through the same atomic cancel as \
            `jobq cancel`: their dependents are cancelled with them (unless `always`), and a \
            task that a worker claimed in the meantime is asked to stop. Running tasks are left \
            alone. The queue itself stays (pause it first to keep workers off it).

            --dry-run shows what would be purged or cancelled, changing nothing.

              jobq purge --finished
              jobq purge --finished --state failed --older-than 7d
              jobq purge --finished --workflow nightly-2024-04-30
              jobq purge --queue reports --dry-run
            """
    )

    @Flag(name: .long, help: "Delete the records of finished (DONE, FAILED, CANCELLED) tasks.")
    var finished = false

    @Option(name: .long, help: ArgumentHelp("Cancel every PENDING task of this queue.", valueName: "queue"))
    var queue: String?

    @Option(name: .long, help: ArgumentHelp("With --finished: only tasks in this state (repeatable): done, skipped, failed, cancelled.", valueName: "state"))
    var state: [TaskState] = []

    @Option(name: .long, help: ArgumentHelp("With --finished: only tasks that finished at least this long ago.", valueName: "duration"))
    var olderThan: DurationArgument?

    @Option(name: .long, help: ArgumentHelp("Only tasks of this workflow.", valueName: "workflow"))
    var workflow: String?

    @Flag(name: .long, help: "Show what would be done; change nothing.")
    var dryRun = false

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func validate() throws {
        if finished == (queue != nil) {
            throw ValidationError("give exactly one of --finished (delete finished task records) or --queue QUEUE (cancel its pending tasks)")
        }
        if let bad = state.first(where: { !$0.isTerminal }) {
            throw ValidationError("--state \(bad.rawValue.lowercased()): only finished states (done, skipped, failed, cancelled) can be purged")
        }
        if queue != nil && (!state.isEmpty || olderThan != nil) {
            throw ValidationError("--state and --older-than go with --finished")
        }
    }

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            if let workflow { try Validation.check(name: workflow, as: .workflow) }
            if let queue {
                try Validation.check(name: queue, as: .queue)
                try await cancelQueue(queue, client: client)
            } else {
                try await purgeFinished(client: client)
            }
            return .ok
        }
    }

    private func purgeFinished(client: JobqClient) async throws {
                let states = state.isEmpty ? TaskState.terminal : state
        let cutoff = try await client.serverTime() - (olderThan?.duration.inMilliseconds ?? 0)
        var candidates: [String]
        if let workflow {
            candidates = try await client.taskIDs(inWorkflow: workflow)
        } else {
            candidates = []
            for state in states { candidates += try await client.finishedTaskIDs(in: state) }
        }
        // Read the records (in pages) to apply the state, workflow and age filters exactly.
        var selected: [String] = []
        var start = 0
        while start < candidates.count {
            let page = Array(candidates[start..<min(start + 2000, candidates.count)])
            for info in try await client.tasks(page).compactMap({ $0 }) {
                guard let state = info.state, states.contains(state) else { continue }
                if olderThan != nil && (info.finished ?? Int64.max) > cutoff { continue }
                selected.append(info.id)
            }
            start += page.count
        }
        let purged = dryRun ? 0 : try await client.purge(finished: selected)
        if output.json {
            var fields: [(String, JSONValue)] = [("dry_run", .bool(dryRun))]
            if dryRun {
                fields += [("would_purge", .int(selected.count)), ("ids", .array(selected.map { .string($0) }))]
            } else {
                fields.append(("purged", .int(purged)))
            }
            Console.out(JSONValue.object(fields).rendered())
        } else if dryRun {
            Console.out("dry run: \(selected.count) finished task record(s) would be deleted; nothing was changed")
            selected.prefix(20).forEach { Console.out("  " + $0) }
            if selected.count > 20 { Console.out("  … and \(selected.count - 20) more") }
        } else {
            Console.out("purged \(purged) finished task record(s)")
        }
    }

    private func cancelQueue(_ queue: String, client: JobqClient) async throws {
                var matching: [String] = []
        let pending = try await client.taskIDs(in: .pending, limit: 10_000_000)
        var start = 0
        while start < pending.count {
            let page = Array(pending[start..<min(start + 2000, pending.count)])
            matching += try await client.tasks(page).compactMap { $0 }
                .filter { $0.state == .pending && $0.queue == queue && (workflow == nil || $0.workflow == workflow) }
                .map(\.id)
            start += page.count
        }
        if dryRun {
            if output.json {
                Console.out(JSONValue.object([
                    ("dry_run", .bool(true)), ("queue", .string(queue)),
                    ("would_cancel", .int(matching.count)), ("ids", .array(matching.map { .string($0) })),
                ]).rendered())
            } else {
                Console.out("dry run: \(matching.count) pending task(s) of queue \(queue) would be cancelled; nothing was changed")
                matching.prefix(20).forEach { Console.out("  " + $0) }
                if matching.count > 20 { Console.out("  … and \(matching.count - 20) more") }
            }
            return
        }
        var cancelled = 0
        var requested = 0
        for id in matching {
            let outcome: CancelOutcome
            do {
                outcome = try await client.cancel(id, message: "purged: queue \(queue) emptied by request")
            } catch {
                // Ended (or was cancelled with a prerequisite) meanwhile: nothing left to do.
                if error.code == .invalidState || error.code == .notFound { continue }
                throw error
            }
            switch outcome {
            case .cancelled: cancelled += 1
            case .requested, .alreadyRequested: requested += 1
            }
        }
        if output.json {
            Console.out(JSONValue.object([
                ("dry_run", .bool(false)), ("queue", .string(queue)), ("cancelled", .int(cancelled)), ("requested", .int(requested)),
            ]).rendered())
        } else {
            Console.out("queue \(queue): cancelled \(cancelled) pending task(s)" + (requested > 0 ? "; \(requested) had started and were asked to stop" : ""))
        }
    }
}
