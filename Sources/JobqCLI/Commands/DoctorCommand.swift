import ArgumentParser
import Foundation
import Jobq
import JobqCore

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Find (and with --repair, fix) task records and indexes that disagree; check Redis's eviction and persistence.",
        discussion: """
            jobq keeps every index in step with the task records inside its scripts, so a \
            healthy namespace has nothing to report. Records damaged by hand, by eviction, by a \
            partial restore or by a bug can leave a task that nothing will ever run or reap. \
            doctor finds: corrupt records; RUNNING tasks the reaper cannot see; PENDING tasks \
            whose prerequisite counter is wrong, that are in no queue (stranded), or whose \
            prerequisite failed; index and queue entries of tasks that are gone or moved on. \
            It recounts each concurrency key's RUNNING count from the running tasks (in one \
            atomic call, while at most 500 run; above that a note) and finds counts that \
            drifted, and records of the format before 2026-12-07, which --repair migrates.

            Without --repair it only reports (a dry run). --repair fixes each problem with an \
            atomic script that checks it again first, so it is safe while workers run. Ready-list \
            ids of tasks cancelled while queued are normal (the next claim drops them); they are \
            listed and cleaned, but do not make the exit status 1.

            It also reads Redis's maxmemory-policy and persistence settings: an evicting policy \
            deletes task records silently; no persistence loses everything on a restart. And it \
            lists stuck workers, with the flags `jobq workers` and the dashboard show: silent (no \
            heartbeat for 3 of its intervals) or running a task past its timeout. With --strict \
            those warnings count as problems. It notes the script libraries earlier jobq \
            versions left on the server (harmless); --repair deletes them (a user refused \
            FUNCTION DELETE gets a note instead).

            Exit status: 0 consistent (or everything repaired), 1 problems left (or, with \
            --strict, an unsafe Redis), 69 Redis unreachable.

              jobq doctor
              jobq doctor --repair
              jobq doctor --json --strict
            """
    )

    @Flag(name: .long, help: "Fix what was found (default: report only).")
    var repair = false

    @Flag(name: .long, help: "Treat an evicting or non-persistent Redis as a problem (exit 1).")
    var strict = false

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: output.json) { client in
            var server = try await client.checkServer()
            var report = try await client.diagnose()
            if repair && !report.isConsistent { report = try await client.repair(report) }
            // other jobq versions' script libraries: harmless, a note; --repair deletes them
            var deletedLibraries: [String] = []
            if repair, server.otherScriptLibraries?.isEmpty == false {
                do {
                    deletedLibraries = try await client.deleteOtherScriptLibraries()
                } catch let error as JobqError where error.serverError?.prefix == "NOPERM" {
                    // a user that may list functions but not delete them: the libraries are
                    // harmless, so a note; the repairs above are done and reported all the same
                    server.scriptLibraryDeleteRefused = error.serverError?.message ?? error.message
                }
                server.otherScriptLibraries = server.otherScriptLibraries?.filter { !deletedLibraries.contains($0) }
            }
            // the stuck flags of `jobq workers` and the dashboard (WorkerInfo.isStuck), one rule
            let now = try await client.serverTime()
            let stuck = try await client.workers().filter { $0.isStuck(now: now) }
            let failed = report.unresolvedCount > 0 || (strict && (!server.isSafe || !stuck.isEmpty))
            if output.json {
                printJSON(report, server: server, namespace: client.namespace, stuck: stuck, now: now, deletedLibraries: deletedLibraries)
            } else {
                for name in deletedLibraries { Console.out("deleted script library \(name) (an earlier jobq version's)") }
                printText(report, server: server, namespace: client.namespace, stuck: stuck, now: now)
            }
            return failed ? .taskFailed : .ok
        }
    }

    private func printJSON(_ report: DoctorReport, server: ServerCheck, namespace: String, stuck: [WorkerInfo], now: Int64, deletedLibraries: [String]) {
        func findings(_ list: [ServerCheck.Finding]) -> JSONValue {
            .array(list.map { .object([("code", .string($0.code)), ("message", .string($0.message))]) })
        }
        Console.out(JSONValue.object([
            ("namespace", .string(namespace)),
            ("tasks_scanned", .int(report.tasksScanned)),
            ("consistent", .bool(report.isConsistent)),
            ("repair", .bool(repair)),
            ("problems", .array(report.problems.map { problem in
                .object([
                    ("kind", .string(problem.kind.rawValue)),
                    ("task", .string(problem.task)),
                    ("location", .optional(problem.location)),
                    ("fix", .string(problem.fix)),
                    ("harmless", .bool(problem.kind.isHarmless)),
                    ("outcome", .optional(problem.outcome)),
                ])
            })),
            ("limit_counts", limitJSON(report.limits)),
            ("notes", findings(report.limits.notes)),
            ("unresolved", .int(report.unresolvedCount)),
            ("server", .object([
                ("maxmemory_policy", .optional(server.evictionPolicy)),
                ("aof_enabled", server.appendOnly.map { .bool($0) } ?? .null),
                ("save", .optional(server.saveRules)),
                ("safe", .bool(server.isSafe)),
                ("warnings", findings(server.warnings)),
                ("notes", findings(server.notes)),
                ("other_script_libraries", server.otherScriptLibraries.map { .array($0.map(JSONValue.string)) } ?? .null),
                ("deleted_script_libraries", .array(deletedLibraries.map(JSONValue.string))),
            ])),
            ("stuck_workers", .array(stuck.map { OperatorJSON.worker($0, now: now) })),
        ]).rendered(pretty: Terminal.current.isTTY))
    }

    /// The concurrency-limit recount: `{"recounted", "running_tasks", "counted_keys",
    /// "parked_keys", "cap", "problems": [{"kind", "key", "stored", "actual", "limit", "parked",
    /// "fix", "harmless", "outcome"}], "legacy_keys", "legacy_migrated", "legacy_indexed"}`.
    private func limitJSON(_ limits: LimitCountCheck) -> JSONValue {
        .object([
            ("recounted", .bool(limits.recounted)),
            ("running_tasks", .int(limits.runningTasks)),
            ("counted_keys", .int(limits.countedKeys)),
            ("parked_keys", .int(limits.parkedKeys)),
            ("cap", .int(limits.cap)),
            ("problems", .array(limits.problems.map { problem in
                .object([
                    ("kind", .string(problem.kind.rawValue)),
                    ("key", .string(problem.key)),
                    ("stored", .int(problem.stored)),
                    ("actual", .int(problem.actual)),
                    ("limit", problem.limit.map { .int($0) } ?? .null),
                    ("parked", .int(problem.parked)),
                    ("fix", .string(problem.fix)),
                    ("harmless", .bool(problem.kind.isHarmless)),
                    ("outcome", .optional(problem.outcome)),
                ])
            })),
            ("legacy_keys", .int(limits.legacyKeys)),
            ("legacy_migrated", limits.legacyMigrated.map { .int($0) } ?? .null),
            ("legacy_indexed", limits.legacyIndexed.map { .int($0) } ?? .null),
        ])
    }

    private func printText(_ report: DoctorReport, server: ServerCheck, namespace: String, stuck: [WorkerInfo], now: Int64) {
        let terminal = Terminal.current
        Console.out(terminal.paint("namespace \(namespace)", .bold) + ": \(report.tasksScanned) task record(s) scanned")
        for warning in server.warnings { Console.out(terminal.paint("warning:", .red) + " " + warning.message) }
        for worker in stuck {
            var why: [String] = []
            if worker.isSilent(now: now) { why.append("silent: last heartbeat \(DurationText.format(milliseconds: max(0, now - worker.lastSeen))) ago") }
            if !worker.overdue.isEmpty { why.append("running past their timeout: " + worker.overdue.joined(separator: ", ")) }
            Console.out(terminal.paint("warning:", .red) + " worker \(worker.id) (\(worker.host) pid \(worker.pid)) is stuck — " + why.joined(separator: "; "))
        }
        for note in server.notes + report.limits.notes { Console.out("note: " + note.message) }
        if report.isConsistent {
            Console.out("consistent: nothing to repair")
            return
        }
        let limitProblems = report.limits.problems
        let count = report.problems.count + limitProblems.count
        if count > 0 { Console.out("\(count) problem(s)" + (repair ? ":" : " (dry run: nothing changed):")) }
        func done(_ outcome: String?, _ fix: String) -> String {
            outcome.map { $0 == "ok" ? "already consistent (changed meanwhile)" : "repaired: " + $0 } ?? "would " + fix
        }
        let rows = report.problems.map { problem in
            [problem.kind.rawValue + (problem.kind.isHarmless ? " (harmless)" : ""), problem.task, problem.location ?? "", done(problem.outcome, problem.fix)]
        } + limitProblems.map { problem in
            [
                problem.kind.rawValue + (problem.kind.isHarmless ? " (harmless)" : ""), "key " + problem.key,
                "running \(problem.stored) stored, \(problem.actual) actual" + (problem.parked > 0 ? ", \(problem.parked) parked" : ""),
                done(problem.outcome, problem.fix),
            ]
        }
        let widths = (0..<3).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            Console.out("  " + (0..<3).map { row[$0].padding(toLength: widths[$0] + 2, withPad: " ", startingAt: 0) }.joined() + row[3])
        }
        if !repair { Console.out("run `jobq doctor --repair` to fix them (each fix re-checks the task first; safe while workers run)") }
    }
}
