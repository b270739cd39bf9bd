import ArgumentParser
import Foundation
import Jobq
import JobqCore

/// `jobq schedule add`: a workflow file or one task, at cron times or every interval.
struct ScheduleAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a schedule: a workflow file or one task, at cron times or every interval.",
        discussion: """
            Each tick submits a new run (id NAME-YYYYMMDDTHHMMSSZ, the tick in UTC), through the \
            maintenance pass of any worker or `jobq coordinator`: one run per tick however many \
            there are. Everything is checked first; nothing is written on an error.

              jobq schedule add nightly --cron "0 2 * * *" --tz Europe/Paris -f flow.yaml
              jobq schedule add heartbeat --every 1s jobq.noop
              jobq schedule add report --cron @hourly report.build --payload '{"n":1}'
              jobq schedule add sync --every 90s -f sync.yaml --overlap cancel

            --cron takes 5 fields (minute hour day-of-month month day-of-week) or 6 (a second \
            first), @hourly @daily @weekly @monthly @yearly, lists, ranges, steps and names \
            (mon-fri, jan). --overlap: what a tick does while the previous run is still going \
            (skip: the default; allow; cancel: cancel it and start; buffer: start the latest \
            tick once it has ended). --catch-up: ticks missed \
            while no worker or coordinator ran (latest: the default, fires the last once; \
            none; all: each, at most 100).

            A file may carry its timing in a top-level `schedule:` block (cron or every, tz, \
            overlap, catch_up, name): then `jobq schedule add -f FILE` needs nothing else; \
            flags override the block, NAME defaults to the block's name, else the file's \
            `workflow:` name, else its base name.
            """
    )

    @Argument(help: ArgumentHelp("The schedule's name (letters, digits, '.', '_', '-'; at most 100). With -f: default the file's schedule.name, workflow name or base name.", valueName: "name"))
    var name: String?

    @Argument(help: ArgumentHelp("One task: the handler to run at each tick (instead of -f).", valueName: "handler"))
    var handler: String?

    @Option(name: .long, help: ArgumentHelp("A cron expression (5 or 6 fields, or @daily…).", valueName: "expr"))
    var cron: String?

    @Option(name: .long, help: ArgumentHelp("With --cron: the time zone its times are read in (tz database name; default UTC).", valueName: "zone"))
    var tz: String?

    @Option(name: .long, help: ArgumentHelp("Fire every interval (at least 1s; the multiples of it since the epoch, so 1h is on the hour UTC): 90s, 5m, 1h.", valueName: "duration"))
    var every: String?

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("A workflow file (YAML or JSON) to submit at each tick.", valueName: "file"))
    var file: String?

    @Option(name: .long, help: ArgumentHelp("With a handler: its JSON payload (literal JSON or @file).", valueName: "json|@file"))
    var payload: String?

    @Option(name: .long, help: ArgumentHelp("With a handler: its queue; with -f: the file's default queue.", valueName: "queue"))
    var queue: String?

    @Option(name: .long, help: ArgumentHelp("While the previous run is still going: skip, allow, cancel or buffer.", valueName: "policy"))
    var overlap: String?

    @Option(name: .customLong("catch-up"), help: ArgumentHelp("Ticks missed while nothing ran: none, latest or all.", valueName: "policy"))
    var catchUp: String?

    @Flag(name: .long, help: "Replace a schedule of that name (it starts afresh) instead of refusing it.")
    var replace = false

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        let json = output.json
        let rule: Schedule.Rule, submission: ScheduledSubmission
        let overlap: Schedule.Overlap, catchUp: Schedule.CatchUp
        let name: String
        do {
            let loaded = try file.map(loadFile)
            let block = loaded?.schedule
            guard let chosen = self.name ?? block?.name ?? loaded.map({ $0.workflow ?? SubmitCommand.definitionName(path: file ?? "") }) else {
                throw JobqError(.invalidOption, "give the schedule's NAME (jobq schedule add NAME --every 1m HANDLER)")
            }
            name = chosen
            try Schedule.validate(name: name)
            rule = try makeRule(block)
            // checked on this machine's clock now, on Redis's again when added
            _ = try rule.timing(now: Int64(Date().timeIntervalSince1970 * 1000))
            overlap = try Self.policy(self.overlap, flag: "--overlap", words: "skip, allow, cancel or buffer") ?? block?.overlap ?? .skip
            catchUp = try Self.policy(self.catchUp, flag: "--catch-up", words: "none, latest or all") ?? block?.catchUp ?? .latest
            submission = try makeSubmission(loaded, name: name)
            try submission.validate(limits: Limits())
        } catch {
            throw CommandRunner.report(error, json: json).exitCode
        }
        try await CommandRunner.run(connection, json: json) { client in
            let schedule = try await client.addSchedule(name, rule, submitting: submission, overlap: overlap, catchUp: catchUp, replace: replace)
            if json {
                Console.out(ScheduleJSON.object(schedule, now: schedule.created).rendered())
            } else {
                let next = schedule.nextFire.map { ScheduleJSON.zonedTime($0, schedule) } ?? "never"
                Console.out("schedule \(name): \(schedule.specText)\(schedule.timeZone.map { " (\($0))" } ?? ""); first run at \(next)")
            }
            return .ok
        }
    }

    /// A policy flag's word, when given (`nil`: the file's block or the default decides).
    private static func policy<Policy: RawRepresentable<String>>(_ text: String?, flag: String, words: String) throws(JobqError) -> Policy? {
        guard let text else { return nil }
        guard let policy = Policy(rawValue: text) else {
            throw JobqError(.invalidOption, "\(flag) \"\(text)\": use \(words)")
        }
        return policy
    }

    /// Exactly one of --cron and --every, or the file's `schedule:` block (--tz overrides its zone).
    private func makeRule(_ block: WorkflowFile.ScheduleBlock?) throws(JobqError) -> Schedule.Rule {
        if cron == nil, every == nil, let block {
            if let cron = block.cron { return .cron(cron, timeZone: tz ?? block.tz) }
            if let every = block.every {
                if tz != nil { throw JobqError(.invalidSchedule, "--tz goes with a cron; the file's schedule.every counts real time") }
                return .every(every)
            }
        }
        switch (cron, every) {
        case (let cron?, nil):
            return .cron(cron, timeZone: tz)
        case (nil, let every?):
            if tz != nil { throw JobqError(.invalidSchedule, "--tz goes with --cron; --every counts real time") }
            guard let interval = DurationText.parse(every) else {
                throw JobqError(.invalidSchedule, "--every \"\(every)\" is not a duration: use \(DurationText.grammar)")
            }
            return .every(interval)
        case (_?, _?):
            throw JobqError(.invalidSchedule, "give either --cron or --every, not both")
        case (nil, nil):
            throw JobqError(.invalidSchedule, "give --cron EXPR or --every DURATION (or a `schedule:` block in the file): when the schedule fires")
        }
    }

    /// The workflow file of -f, read and checked once.
    private func loadFile(_ path: String) throws -> WorkflowFile {
        if handler != nil { throw JobqError(.invalidOption, "give either -f FILE or a handler, not both") }
        if let queue { try Validation.check(name: queue, as: .queue) }
        return try WorkflowFile.load(path: path, overrides: .init(workflow: nil, queue: queue))
    }

    /// The file's tasks and run options, or one task of the handler.
    private func makeSubmission(_ file: WorkflowFile?, name: String) throws -> ScheduledSubmission {
        switch (file, handler) {
        case (let loaded?, nil):
            if payload != nil { throw JobqError(.invalidOption, "--payload goes with a handler, not -f") }
            let path = self.file ?? ""
            if let outside = loaded.externalPrerequisites.first {
                throw JobqError(.invalidOption, "\(loaded.name):\(outside.line): task \"\(outside.task)\" comes after \"\(outside.prerequisite)\", outside the file; a scheduled file must be complete in itself", subject: outside.task)
            }
            let options = loaded.runOptions(id: nil, definition: loaded.workflow ?? SubmitCommand.definitionName(path: path))
            return ScheduledSubmission(tasks: loaded.entries.map(\.spec), run: options)
        case (nil, let handler?):
            try Validation.check(name: handler, as: .handler)
            let payloadValue = try payload.map(SubmitCommand.readPayload) ?? .null
            return ScheduledSubmission(handler: handler, payload: payloadValue.bytes, queue: queue ?? TaskSpec.defaultQueue, definition: name)
        case (_?, _?):
            throw JobqError(.invalidOption, "give either -f FILE or a handler, not both")
        case (nil, nil):
            throw JobqError(.invalidOption, "give -f FILE or a handler: what the schedule submits")
        }
    }
}
