import Foundation
import JobqCore
import Testing

/// Workflow runs from the command line (issue 8): the same file run many times in one
/// namespace, `jobq runs`, and status, cancel, retry, rerun, result on a run and its tasks.
@Suite("Workflow runs: submit, runs, status, cancel, retry, rerun", .enabled(if: redisAvailable))
struct RunCommandTests {
    /// fetch -> report; report echoes what fetch returned (`!retval` resolves within the run).
    static let flow = """
        workflow: nightly
        tasks:
          - {id: fetch, handler: jobq.echo, payload: {n: 1}, retries: 0}
          - {id: report, handler: jobq.echo, after: [fetch], payload: {got: !retval fetch}, retries: 0}
        """

    static func flowFile(_ text: String = flow) throws -> String {
        try CLIHarness.temporaryFile("nightly.yaml", text)
    }

    /// Submits the file; returns the run id it printed.
    func submit(_ cli: CLIHarness, _ path: String, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let result = try await cli.run(["submit", "-f", path] + extra)
        #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        return result.trimmedOutput
    }

    func runJSON(_ cli: CLIHarness, _ run: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let status = try await cli.run(["status", run, "--json"])
        #expect(status.status == 0, "\(status.stderr)", sourceLocation: sourceLocation)
        return try #require(try status.json()["run"] as? [String: Any], "\(status.stdout)", sourceLocation: sourceLocation)
    }

    /// `jobq runs ARGS --json`: the ids of the page and its `next` cursor.
    func page(_ cli: CLIHarness, _ arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws -> (ids: [String], next: String?) {
        let result = try await cli.run(["runs", "--json"] + arguments)
        #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        let json = try result.json()
        let runs = try #require(json["runs"] as? [[String: Any]], sourceLocation: sourceLocation)
        return (runs.compactMap { $0["id"] as? String }, json["next"] as? String)
    }

    /// Runs `jobq-worker --once --enable-test-handlers` on the namespace until nothing is left to
    /// do; the handlers journal each run to `journal` (the record the tests check jobq against).
    func drain(_ cli: CLIHarness, journal: String) async throws {
        let worker = try await RunningCLI.start(
            ["--redis", cli.server.url, "--namespace", cli.namespace, "--enable-test-handlers", "--once", "--concurrency", "4"],
            environment: ["JOBQ_TEST_JOURNAL": journal], executable: JobqBinary.workerPath
        )
        let result = await worker.finish(timeout: .seconds(60))
        #expect(result.status == 0, "jobq-worker --once: \(result.stdout)\(result.stderr)")
    }

    /// The tasks the journal says ended `ok`, with how many times each did.
    static func finishedOK(journal: String) throws -> [String: Int] {
        let text = (try? String(contentsOfFile: journal, encoding: .utf8)) ?? ""
        var ended: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 6, fields[0] == "E", fields[5] == "ok" { ended[String(fields[1]), default: 0] += 1 }
        }
        return ended
    }

    // MARK: Two runs of one file

    @Test func theSameFileTwiceGivesTwoSeparateRunsThatBothFinish() async throws {
        let cli = try await CLIHarness.make()
        let path = try Self.flowFile()
        let first = try await submit(cli, path)
        let second = try await submit(cli, path)
        #expect(first != second)
        #expect(first.hasPrefix("nightly-") && second.hasPrefix("nightly-"), "\(first) \(second)")
        // Each run's fetch gets a result of its own (done here, not by the worker): each
        // report must echo its own run's, so `!retval fetch` resolved within the run.
        try await cli.complete("\(first)/fetch", result: #"{"run":1}"#)
        try await cli.complete("\(second)/fetch", result: #"{"run":2}"#)
        let journal = NSTemporaryDirectory() + "jobq-runs-journal-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: journal) }
        try await drain(cli, journal: journal)

        // The handlers' own record: each run's report ran once, and nothing else ran.
        #expect(try Self.finishedOK(journal: journal) == ["\(first)/report": 1, "\(second)/report": 1])
        let firstReport = try await cli.run(["result", "\(first)/report"])
        #expect(firstReport.status == 0, "\(firstReport.stderr)")
        #expect(firstReport.trimmedOutput == #"{"got":{"run":1}}"#)
        #expect(try await cli.run(["result", "\(second)/report"]).trimmedOutput == #"{"got":{"run":2}}"#)
        #expect(try await cli.run(["result", "\(first)/fetch"]).trimmedOutput == #"{"run":1}"#)
        for run in [first, second] {
            let wait = try await cli.run(["wait", run, "--timeout", "10s"])
            #expect(wait.status == 0, "\(wait.stdout)\(wait.stderr)")
            let record = try await runJSON(cli, run)
            #expect(record["state"] as? String == "DONE")
            #expect(record["definition"] as? String == "nightly")
            #expect(record["total"] as? Int == 2)
            #expect(record["finished"] is String)
        }
        // Two runs of one definition, newest first.
        #expect(try await page(cli, ["--definition", "nightly"]).ids == [second, first])
    }

    // MARK: jobq runs

    @Test func runsListsNewestFirstFiltersAndPages() async throws {
        let cli = try await CLIHarness.make()
        let nightly = try Self.flowFile()
        let weekly = try Self.flowFile(Self.flow.replacingOccurrences(of: "workflow: nightly", with: "workflow: weekly"))
        // n1 on a queue of its own: failing it claims nothing of the other runs (a claim starts a run).
        #expect(try await submit(cli, nightly, ["--run", "n1", "--queue", "q1"]) == "n1")
        try await cli.failFinal("n1/fetch", message: "no data", queue: "q1")
        try await Task.sleep(for: .milliseconds(5))
        #expect(try await submit(cli, weekly, ["--run", "w1"]) == "w1")
        try await Task.sleep(for: .milliseconds(5))
        #expect(try await submit(cli, nightly, ["--run", "n2"]) == "n2")

        // Newest first, with each run's record.
        let all = try await cli.run(["runs", "--json"])
        #expect(all.status == 0, "\(all.stderr)")
        let runs = try #require(try all.json()["runs"] as? [[String: Any]])
        #expect(runs.compactMap { $0["id"] as? String } == ["n2", "w1", "n1"])
        #expect(runs.map { $0["state"] as? String } == ["PENDING", "PENDING", "FAILED"])
        #expect(runs.map { $0["definition"] as? String } == ["nightly", "weekly", "nightly"])
        #expect(runs.map { $0["summary"] as? String } == ["2P = 2", "2P = 2", "1F + 1C = 2"])
        #expect(runs.allSatisfy { $0["created"] is String })
        #expect(try all.json()["next"] is NSNull, "one page holds all three")

        // Filters, server-side.
        #expect(try await page(cli, ["--state", "failed"]).ids == ["n1"])
        #expect(try await page(cli, ["--state", "PENDING"]).ids == ["n2", "w1"])
        #expect(try await page(cli, ["--definition", "weekly"]).ids == ["w1"])
        #expect(try await page(cli, ["--definition", "nightly", "--state", "pending"]).ids == ["n2"])
        #expect(try await page(cli, ["--state", "done"]).ids == [])

        // Pages of one: each ends with the cursor of the next; no run is skipped or repeated.
        var seen: [String] = []
        var cursor: String?
        for _ in 0..<5 {
            let next = try await page(cli, ["--limit", "1"] + (cursor.map { ["--after", $0] } ?? []))
            #expect(next.ids.count <= 1)
            seen += next.ids
            cursor = next.next
            if cursor == nil { break }
        }
        #expect(seen == ["n2", "w1", "n1"])
        #expect(cursor == nil, "paging never ended")

        // Text: a table, and the command for the next page.
        let human = try await cli.run(["runs"])
        #expect(human.status == 0, "\(human.stderr)")
        let lines = human.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("RUN") == true && lines.first?.contains("STATE") == true, "\(human.stdout)")
        #expect(lines.dropFirst().map { $0.split(separator: " ").first.map(String.init) } == ["n2", "w1", "n1"], "\(human.stdout)")
        let n1 = try #require(lines.first { $0.hasPrefix("n1 ") })
        #expect(n1.contains("FAILED") && n1.contains("1F + 1C = 2") && n1.contains("nightly"), "\(n1)")
        #expect(!human.stdout.contains("\u{1B}["))
        let first = try await page(cli, ["--limit", "1"])
        let paged = try await cli.run(["runs", "--limit", "1", "--definition", "nightly"])
        #expect(paged.stdout.contains("more: jobq runs --after "), "\(paged.stdout)")
        #expect(try await cli.run(["runs", "--limit", "1"]).stdout.contains("--after \(try #require(first.next))"))
        let none = try await cli.run(["runs", "--definition", "nosuch"])
        #expect(none.status == 0)
        #expect(none.trimmedOutput == "no runs of nosuch")

        // Bad options: exit 64, a message that says what a cursor is.
        let badCursor = try await cli.run(["runs", "--after", "yesterday"])
        #expect(badCursor.status == 64)
        #expect(badCursor.stderr.contains("is not a cursor"), "\(badCursor.stderr)")
        #expect(try await cli.run(["runs", "--after", "123:bad/id"]).status == 64)
        #expect(try await cli.run(["runs", "--limit", "0"]).status == 64)
        #expect(try await cli.run(["runs", "--state", "sleeping"]).status == 64)
    }

    /// `--queue` reads the queue's runs index (written at submit), as the dashboard's filter
    /// does: a run whose 65th task is its only one on the queue is found, with the other filters.
    @Test func runsFilteredByTheQueueOfAnyOfTheirTasks() async throws {
        let cli = try await CLIHarness.make()
        let specs = (0..<70).map { TaskSpec(id: "t\($0)", handler: "h", queue: $0 < 64 ? "common" : "rare") }
        _ = try await cli.coordinator.tasks.submit(specs, run: RunOptions(id: "wide", definition: "d"))
        _ = try await cli.coordinator.tasks.submit([TaskSpec(id: "a", handler: "h", queue: "common")], run: RunOptions(id: "narrow", definition: "d"))
        #expect(try await page(cli, ["--queue", "rare"]).ids == ["wide"])
        #expect(try await page(cli, ["--queue", "common"]).ids == ["narrow", "wide"])
        #expect(try await page(cli, ["--queue", "common", "--limit", "1"]).next != nil)
        #expect(try await page(cli, ["--queue", "rare", "--state", "pending", "--definition", "d"]).ids == ["wide"])
        #expect(try await page(cli, ["--queue", "rare", "--definition", "other"]).ids == [])
        #expect(try await page(cli, ["--queue", "unused"]).ids == [])
    }

    // MARK: status RUN

    @Test func statusOfARunHasTheRunRecord() async throws {
        let cli = try await CLIHarness.make()
        let run = try await submit(cli, try Self.flowFile(), ["--run", "r"])
        var record = try await runJSON(cli, run)
        #expect(record["id"] as? String == "r")
        #expect(record["state"] as? String == "PENDING")
        #expect(record["definition"] as? String == "nightly")
        #expect(record["counts"] as? [String: Int] == ["pending": 2, "running": 0, "done": 0, "failed": 0, "cancelled": 0, "skipped": 0])
        #expect(record["total"] as? Int == 2)
        #expect(record["started"] is NSNull)

        _ = try await cli.claim("r/fetch")
        record = try await runJSON(cli, run)
        #expect(record["state"] as? String == "RUNNING")
        #expect(record["counts"] as? [String: Int] == ["pending": 1, "running": 1, "done": 0, "failed": 0, "cancelled": 0, "skipped": 0])
        #expect(record["started"] is String)

        let status = try await cli.run(["status", "r", "--json"]).json()
        #expect(status["workflow"] as? String == "r")
        let tasks = try #require(status["tasks"] as? [[String: Any]])
        #expect(tasks.map { $0["id"] as? String } == ["r/fetch", "r/report"])
        let human = try await cli.run(["status", "r"])
        #expect(human.stdout.split(separator: "\n").first?.hasPrefix("r  RUNNING  1R + 1P = 2  definition nightly") == true, "\(human.stdout)")
    }

    // MARK: Run ids, idempotency keys and dry runs

    @Test func aRunIDThatExistsIsRefusedAndNothingIsWritten() async throws {
        let cli = try await CLIHarness.make()
        let path = try Self.flowFile()
        #expect(try await submit(cli, path, ["--run", "x"]) == "x")
        let before = try await cli.keysInNamespace()
        for spelling in ["--run", "--workflow"] {
            let again = try await cli.run(["submit", "-f", path, spelling, "x", "--json"])
            #expect(again.status == 64, "\(spelling): \(again.stderr)")
            let error = try again.jsonError()
            #expect(error["code"] as? String == "run_exists", "\(spelling): \(again.stderr)")
            #expect((error["message"] as? String)?.contains("run with id x already exists") == true)
            #expect(again.stdout.isEmpty)
        }
        // Another file under a taken run id: refused the same way (its task ids are free).
        let other = try CLIHarness.temporaryFile("other.yaml", "tasks:\n  - {id: unrelated, handler: h}\n")
        let otherFile = try await cli.run(["submit", "-f", other, "--run", "x"])
        #expect(otherFile.status == 64)
        #expect(otherFile.stderr.contains("[run_exists]"), "\(otherFile.stderr)")
        // --dry-run checks Redis too when given a run id: it says what the real submit would.
        let dry = try await cli.run(["submit", "-f", path, "--run", "x", "--dry-run"])
        #expect(dry.status == 64, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stderr.contains("[run_exists]"), "\(dry.stderr)")
        #expect(try await cli.keysInNamespace() == before, "a refused submission wrote something")

        let free = try await cli.run(["submit", "-f", path, "--run", "y", "--dry-run", "--json"])
        #expect(free.status == 0, "\(free.stderr)")
        let plan = try free.json()
        #expect(plan["run"] as? String == "y")
        #expect(plan["definition"] as? String == "nightly")
        #expect(plan["dry_run"] as? Bool == true)
        #expect(try await cli.keysInNamespace() == before, "--dry-run wrote something")
        #expect(try await cli.run(["status", "y"]).status == 66)
    }

    @Test func theSameKeyTwiceReturnsTheFirstRun() async throws {
        let cli = try await CLIHarness.make()
        let path = try Self.flowFile()
        let first = try await cli.run(["submit", "-f", path, "--key", "k1", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let firstJSON = try first.json()
        let run = try #require(firstJSON["run"] as? String)
        #expect(run.hasPrefix("nightly-"))
        #expect(firstJSON["created"] as? Bool == true)

        // The generated run id is not part of what the key stands for: the repeat matches.
        let second = try await cli.run(["submit", "-f", path, "--key", "k1", "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        let secondJSON = try second.json()
        #expect(secondJSON["run"] as? String == run)
        #expect(secondJSON["created"] as? Bool == false)
        #expect((secondJSON["tasks"] as? [[String: Any]])?.map { $0["id"] as? String } == ["\(run)/fetch", "\(run)/report"])
        let text = try await cli.run(["submit", "-f", path, "--key", "k1"])
        #expect(text.status == 0 && text.trimmedOutput == run, "\(text.stdout)\(text.stderr)")
        #expect(try await page(cli).ids == [run], "a repeat started another run")

        // Other content under the same key is still a conflict.
        let other = try Self.flowFile(Self.flow.replacingOccurrences(of: "{n: 1}", with: "{n: 2}"))
        let conflict = try await cli.run(["submit", "-f", other, "--key", "k1", "--json"])
        #expect(conflict.status == 64)
        #expect(try conflict.jsonError()["code"] as? String == "idempotency_conflict")
        #expect(try await page(cli).ids == [run])
    }

    // MARK: cancel, retry, rerun

    @Test func cancelARunEndsItCancelled() async throws {
        let cli = try await CLIHarness.make()
        let run = try await submit(cli, try Self.flowFile(), ["--run", "c"])
        let cancel = try await cli.run(["cancel", run])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        #expect(cancel.trimmedOutput == "run c: 2 task(s) cancelled")
        let record = try await runJSON(cli, run)
        #expect(record["state"] as? String == "CANCELLED")
        #expect(record["counts"] as? [String: Int] == ["pending": 0, "running": 0, "done": 0, "failed": 0, "cancelled": 2, "skipped": 0])
        #expect(record["cancel_requested"] as? Bool == true)
        #expect(try await cli.state("c/fetch") == .cancelled)
        #expect(try await cli.state("c/report") == .cancelled)
        #expect(try await page(cli, ["--state", "cancelled"]).ids == ["c"])
        let wait = try await cli.run(["wait", run, "--timeout", "5s"])
        #expect(wait.status == 1, "\(wait.stdout)\(wait.stderr)")
        let again = try await cli.run(["cancel", run, "--json"]).json()
        #expect(again["cancelled"] as? Int == 0)
    }

    @Test func retryARunReopensItsFailedTaskAndTheDependentsItTookDown() async throws {
        let cli = try await CLIHarness.make()
        let run = try await submit(cli, try Self.flowFile(), ["--run", "f"])
        try await cli.failFinal("f/fetch", message: "upstream down")
        #expect(try await cli.state("f/report") == .cancelled)
        #expect(try await runJSON(cli, run)["state"] as? String == "FAILED")

        let retry = try await cli.run(["retry", run, "--json"])
        #expect(retry.status == 0, "\(retry.stderr)")
        let json = try retry.json()
        #expect(json["run"] as? String == "f")
        #expect(Set(json["reopened"] as? [String] ?? []) == ["f/fetch", "f/report"])
        let record = try await runJSON(cli, run)
        let state = try #require(record["state"] as? String)
        #expect(state == "RUNNING" || state == "PENDING", "a re-opened run is not \(state)")
        #expect(record["finished"] is NSNull)
        #expect(record["counts"] as? [String: Int] == ["pending": 2, "running": 0, "done": 0, "failed": 0, "cancelled": 0, "skipped": 0])
        #expect(try await cli.state("f/fetch") == .pending)
        #expect(try await cli.state("f/report") == .pending)

        // Nothing left to retry; and the run now finishes DONE.
        let nothing = try await cli.run(["retry", run])
        #expect(nothing.status == 0)
        #expect(nothing.trimmedOutput == "run f: nothing to retry (no task FAILED or CANCELLED)")
        try await cli.complete("f/fetch")
        try await cli.complete("f/report")
        #expect(try await runJSON(cli, run)["state"] as? String == "DONE")
        #expect(try await cli.run(["wait", run, "--timeout", "5s"]).status == 0)
    }

    @Test func rerunStartsANewRunWithTheSameTasks() async throws {
        let cli = try await CLIHarness.make()
        let old = try await submit(cli, try Self.flowFile(), ["--run", "old"])
        try await cli.failFinal("old/fetch")
        let rerun = try await cli.run(["rerun", old, "--json"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let json = try rerun.json()
        let new = try #require(json["run"] as? String)
        #expect(new != old && new.hasPrefix("nightly-"), "\(new)")
        #expect(json["from"] as? String == "old")
        #expect(json["tasks"] as? Int == 2)

        let status = try await cli.run(["status", new, "--json"]).json()
        let tasks = try #require(status["tasks"] as? [[String: Any]])
        #expect(tasks.map { $0["id"] as? String } == ["\(new)/fetch", "\(new)/report"])
        #expect(tasks.map { $0["state"] as? String } == ["PENDING", "PENDING"])
        let report = try #require(try await cli.coordinator.tasks.task("\(new)/report"))
        #expect(report.prerequisites == [Prerequisite("\(new)/fetch")])
        #expect(report.handler == "jobq.echo")
        #expect(String(decoding: report.payload, as: UTF8.self) == #"{"got":{"$retval":"fetch"}}"#)
        #expect((status["run"] as? [String: Any])?["definition"] as? String == "nightly")
        // The old run is left as it was.
        #expect(try await runJSON(cli, old)["state"] as? String == "FAILED")

        // A chosen id, once; an unknown run is not found.
        let named = try await cli.run(["rerun", old, "--run", "again"])
        #expect(named.status == 0 && named.trimmedOutput == "again", "\(named.stdout)\(named.stderr)")
        let taken = try await cli.run(["rerun", old, "--run", "again", "--json"])
        #expect(taken.status == 64)
        #expect(try taken.jsonError()["code"] as? String == "run_exists", "\(taken.stderr)")
        let missing = try await cli.run(["rerun", "nosuch"])
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(try await page(cli).ids.count == 3)
    }

    // MARK: Tasks of a run by RUN/KEY

    @Test func tasksOfARunAreAddressedAsRunSlashKey() async throws {
        let cli = try await CLIHarness.make()
        let run = try await submit(cli, try Self.flowFile(), ["--run", "r"])
        try await cli.complete("r/fetch", result: #"{"rows":3}"#)
        let result = try await cli.run(["result", "r/fetch"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.trimmedOutput == #"{"rows":3}"#)
        let status = try await cli.run(["status", "r/report", "--json"]).json()
        #expect(status["id"] as? String == "r/report")
        #expect(status["workflow"] as? String == run)

        let noTask = try await cli.run(["status", "r/nosuchtask"])
        #expect(noTask.status == 66)
        #expect(noTask.stderr.contains("run r has no task nosuchtask"), "\(noTask.stderr)")
        #expect(noTask.stderr.contains("jobq status r"), "\(noTask.stderr)")
        let noRun = try await cli.run(["status", "nosuchrun/fetch", "--json"])
        #expect(noRun.status == 66)
        #expect(try noRun.jsonError()["code"] as? String == "not_found")
        #expect((try noRun.jsonError()["message"] as? String)?.contains("there is no run nosuchrun") == true, "\(noRun.stderr)")
        let malformed = try await cli.run(["status", "r/bad id"])
        #expect(malformed.status == 64)
        // The graph of a task of a run is its run's.
        let graph = try await cli.run(["graph", "r/report"])
        #expect(graph.status == 0, "\(graph.stderr)")
        #expect(graph.stdout == (try await cli.run(["graph", "r"])).stdout)
        #expect(try await cli.run(["graph", "r/nosuchtask"]).status == 66)
    }
}
