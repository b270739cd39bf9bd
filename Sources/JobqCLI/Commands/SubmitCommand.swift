import ArgumentParser
import Foundation
import Jobq
import JobqCore

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit one task, or a workflow file (YAML or JSON).",
        discussion: """
            One task: give the handler name (what a worker registered the code under) and, \
            optionally, a JSON payload. The new task's id is printed on stdout.

              jobq submit jobq.echo --payload '{"hello":"world"}'
              jobq submit report.build --payload @params.json --queue reports --timeout 10m
              echo '{"n":3}' | jobq submit jobq.echo --payload -
              jobq submit mail.send --after 01J0ABC… --after cleanup:always --retries 5
              id=$(jobq submit jobq.sleep --payload '{"seconds":0.5}') && jobq wait "$id"

            A workflow file: all of its tasks are submitted atomically (all or none) and the \
            workflow id is printed. The file is checked first (syntax, keys, ids, cycles, \
            !retval references, payload sizes); an error names file:line:column and the task, \
            and nothing is written.

              jobq submit -f flow.yaml
              jobq submit -f flow.json --run nightly-2024-05-01
              jobq submit -f flow.yaml --dry-run        # check and show the plan only

            --after takes a task id, ID:always to run once ID has ended whatever its \
            outcome, or ID:failure to run only if it failed (default: only if it succeeded; \
            if it fails, this task is cancelled). \
            --retries N allows N re-runs after a failure (N+1 runs in all); --max-attempts N \
            sets the total instead. --key makes the submission idempotent: repeating it with \
            the same key and content returns the first submission's ids. --strict refuses \
            (exit 69) to submit to a Redis that evicts keys or persists nothing (see jobq doctor).
            """
    )

    @Argument(help: ArgumentHelp("The handler to run (letters, digits, '.', '_', '-').", valueName: "handler"))
    var handler: String?

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("Submit a workflow file (YAML or JSON; '-' reads stdin) instead of one task.", valueName: "file"))
    var file: String?

    @Option(name: .long, help: ArgumentHelp("JSON payload: literal JSON, @path to read a file, or - for stdin. (default: null)", valueName: "json|@file|-"))
    var payload: String?

    @Option(name: .long, help: ArgumentHelp("Queue to put the task on (default: default). With -f: the default queue of the file's tasks.", valueName: "queue"))
    var queue: String?

    @Option(name: .long, help: ArgumentHelp("Run only after this task succeeded (repeatable). ID:always runs once it has ended whatever the outcome; ID:failure only if it failed.", valueName: "id[:always|:failure]"))
    var after: [String] = []

    // The numeric options parse `.unconditional`ly: `--retries -1` must reach the range check
    // below, not be taken for a flag named -1 ("Missing value").
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Re-runs allowed after a failure (default: \(TaskSpec.defaultMaxAttempts - 1), i.e. \(TaskSpec.defaultMaxAttempts) runs in all).", valueName: "n"))
    var retries: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Total runs allowed, the first included (alternative to --retries).", valueName: "n"))
    var maxAttempts: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Times a handler may snooze the task (\"not yet, try again in D\", no attempt used) before a snooze counts as a failure, reason snooze_limit (default: \(TaskSpec.defaultMaxSnoozes)).", valueName: "n"))
    var maxSnoozes: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Priority within the queue, \(TaskSpec.priorities.lowerBound) to \(TaskSpec.priorities.upperBound): higher first, FIFO within one priority; strict, so a low one waits while higher ones are ready (default: 0).", valueName: "n"))
    var priority: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("How long one run may take before it is stopped and counted as failed (default: 15m). Durations: 250ms, 30s, 1.5s, 5m, 2h, 1d, 1h30m.", valueName: "duration"))
    var timeout: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Do not run before this much time has passed (default: 0).", valueName: "duration"))
    var delay: String?

    @Option(name: .long, help: ArgumentHelp("Wait between runs: \(BackoffText.grammar). (default: exponential 1s 5m)", valueName: "backoff"))
    var backoff: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("How long the finished task and its result are kept (default: 24h).", valueName: "duration"))
    var keep: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Not started by then, the task ends CANCELLED (reason expired) and never runs — a duration after the submission (10m, on Redis's clock) or an ISO 8601 time; at most 366d away.", valueName: "when"))
    var expires: String?

    @Option(name: .long, help: ArgumentHelp("Tasks with the same key count together against --concurrency-limit, fleet-wide: literal text and {payload.FIELD} placeholders (tenant-{payload.tenant}), expanded now.", valueName: "template"))
    var concurrencyKey: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --concurrency-key: at most N of the key's tasks running at once, across every worker (1: one at a time, in order; at most \(ConcurrencyLimit.maxLimit)). The others wait parked; no worker polls.", valueName: "n"))
    var concurrencyLimit: Int?

    @Option(name: .long, help: ArgumentHelp("At most one task by key: a submit whose key is held gets the existing task back (literal text and {payload.FIELD} placeholders, expanded now). Needs --unique-for, --debounce or --throttle.", valueName: "template"))
    var uniqueKey: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --unique-key: how long the key is held — until_started (until a worker claims it), until_finished (until it ends), or a duration (until it ends, at most that long).", valueName: "scope"))
    var uniqueFor: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --unique-key: start the task this long after the last submit of its key; a submit while it still waits replaces its payload and pushes its start back.", valueName: "duration"))
    var debounce: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --unique-key: at most one task of the key per interval; a submit inside it gets the task that opened it.", valueName: "duration"))
    var throttle: String?

    @Option(name: .long, help: ArgumentHelp("Tasks with the same key count together against --rate-limit, fleet-wide: literal text and {payload.FIELD} placeholders (api-{payload.tenant}), expanded now. Default: the queue.", valueName: "template"))
    var rateKey: String?

    @Option(name: .long, help: ArgumentHelp("At most N of the key's tasks start in any window of the interval, across every worker: N/DURATION (100/1m, 5/s; N from 1 to \(RateLimit.maxCount)). The others wait parked; no worker polls.", valueName: "n/interval"))
    var rateLimit: String?

    @Option(name: .long, help: ArgumentHelp("Claim this queue's tasks in turns across keys (one task per key with ready work, round robin) instead of in submission order: literal text and {payload.FIELD} placeholders (tenant-{payload.tenant}), expanded now.", valueName: "template"))
    var fairKey: String?

    @Option(name: .long, help: ArgumentHelp("Do not run before the signal NAME came (jobq signal TASK NAME), as well as the prerequisites.", valueName: "name"))
    var waitFor: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --wait-for: how long to wait for the signal, from the submission (default: forever).", valueName: "duration"))
    var waitTimeout: String?

    @Option(name: .long, help: ArgumentHelp("With --wait-for: what the timeout does: fail (FAILED, reason signal_timeout), skip (SKIPPED), run (without the signal). (default: fail)", valueName: "action"))
    var onTimeout: String?

    @Option(name: .long, help: ArgumentHelp("Idempotency key: a repeat with the same key and content returns the first ids.", valueName: "key"))
    var key: String?

    @Option(name: .long, help: ArgumentHelp("The task id (default: a generated, time-ordered id).", valueName: "id"))
    var id: String?

    @Option(name: .long, help: ArgumentHelp("A human label shown by status, watch and graph.", valueName: "text"))
    var title: String?

    @Option(name: .long, help: ArgumentHelp("With -f: the new run's id (default: the file's `workflow:` name and a time-ordered suffix). An id that exists is refused.", valueName: "id"))
    var run: String?

    @Option(name: .long, help: ArgumentHelp("With -f: at most N of the run's tasks running at once, across every worker (overrides the file's `window:`).", valueName: "n"))
    var window: Int?

    @Option(name: .long, help: ArgumentHelp("With -f: when the run must be over — a duration after the submission (30m) or an ISO 8601 time; then it is stopped and ends FAILED (reason deadline).", valueName: "when"))
    var deadline: String?

    @Flag(name: .long, help: "With -f: the first task that fails for good stops the rest of the run (reason fail_fast).")
    var failFast = false

    @Flag(name: .long, help: "With -f: submit a file that has a `schedule:` block as one run now (as `jobq schedule trigger` would), instead of refusing it.")
    var once = false

    @Option(name: .long, help: ArgumentHelp("One task: a label that groups standalone tasks for status, watch and cancel. With -f: the same as --run (kept for 0.1 scripts).", valueName: "id"))
    var workflow: String?

    @Flag(name: .long, help: "Check everything and print the plan, but submit nothing (no Redis needed for files without outside prerequisites).")
    var dryRun = false

    @Flag(name: .long, help: "Refuse to submit (exit 69) when Redis evicts keys (maxmemory-policy other than noeviction) or persists nothing.")
    var strict = false

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func validate() throws {
        if file == nil && handler == nil {
            throw ValidationError("give a handler to submit one task (jobq submit HANDLER) or a workflow file (jobq submit -f FILE)")
        }
        if file != nil {
            let single: [(String, Bool)] = [
                ("a handler argument", handler != nil), ("--payload", payload != nil), ("--after", !after.isEmpty),
                ("--retries", retries != nil), ("--max-attempts", maxAttempts != nil), ("--timeout", timeout != nil),
                ("--delay", delay != nil), ("--backoff", backoff != nil), ("--keep", keep != nil), ("--id", id != nil), ("--title", title != nil),
                ("--expires", expires != nil), ("--max-snoozes", maxSnoozes != nil), ("--priority", priority != nil),
                ("--concurrency-key", concurrencyKey != nil), ("--concurrency-limit", concurrencyLimit != nil), ("--wait-for", waitFor != nil),
                ("--unique-key", uniqueKey != nil), ("--unique-for", uniqueFor != nil), ("--debounce", debounce != nil), ("--throttle", throttle != nil),
                ("--rate-key", rateKey != nil), ("--rate-limit", rateLimit != nil), ("--fair-key", fairKey != nil),
            ]
            if let (name, _) = single.first(where: \.1) {
                throw ValidationError("\(name) applies to one task; with -f, put it in the file (task fields or `defaults:`)")
            }
        }
        if file == nil && (window != nil || deadline != nil || failFast || once) {
            throw ValidationError("--window, --deadline, --fail-fast and --once apply to a run (jobq submit -f FILE)")
        }
        if file == nil && run != nil {
            throw ValidationError("--run names a run of a workflow file (jobq submit -f FILE --run ID); a standalone task joins a label with --workflow")
        }
        if run != nil && workflow != nil {
            throw ValidationError("give --run (the run's id) or --workflow, not both")
        }
        if retries != nil && maxAttempts != nil {
            throw ValidationError("give either --retries (re-runs after a failure) or --max-attempts (total runs), not both")
        }
    }

    func run() async throws {
        if let file {
            try await submitFile(file)
        } else {
            try await submitOne()
        }
    }

    // MARK: One task

    private func submitOne() async throws {
        let json = output.json
        let spec: TaskSpec
        do {
            spec = try makeSpec()
        } catch {
            throw CommandRunner.report(error, json: json).exitCode
        }
        if dryRun {
            try await CommandRunner.runOffline(json: json) {
                printPlan(workflow: workflow, specs: [spec])
                return .ok
            }
            return
        }
        try await CommandRunner.run(connection, json: json) { client in
            if strict { try await client.checkServer().requireSafe() }
            let result = try await client.submit([spec], workflow: workflow, idempotencyKey: key)
            guard let task = result.tasks.first else { throw JobqError(.internalError, "submit returned no task") }
            if json {
                Console.out(JSONValue.object([
                    ("id", .string(task.id)),
                    ("state", .optional(task.state?.rawValue)),
                    ("created", .bool(result.created)),
                    ("outcome", .string(Self.outcomeWord(result.outcome))),
                    ("unique_key", .optional(spec.uniqueness.flatMap { try? $0.expandedKey(payload: spec.payload) })),
                    ("workflow", .optional(workflow)),
                ]).rendered())
            } else {
                Console.out(task.id)
                if Terminal.stderrIsTTY {
                    let note = Self.outcomeNote(result.outcome)
                    let doomed = task.state == .cancelled ? " — CANCELLED at once: a prerequisite had already failed" : ""
                    Console.err("submitted \(handler ?? "") as \(task.id)\(note)\(doomed); follow it with: jobq watch \(task.id)")
                }
            }
            return .ok
        }
    }

    private func makeSpec() throws -> TaskSpec {
        let handler = handler ?? ""
        try Validation.check(name: handler, as: .handler)
        var prerequisites: [Prerequisite] = []
        for entry in after.flatMap({ $0.split(separator: ",").map(String.init) }) {
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            var policy = DependencyPolicy.success
            if parts.count == 2 {
                guard let parsed = DependencyPolicy(rawValue: parts[1]) else {
                    throw JobqError(.invalidOption, "--after \(entry): unknown policy \"\(parts[1])\"; use ID (run if it succeeded), ID:always (run once it has ended) or ID:failure (run only if it failed)")
                }
                policy = parsed
            }
            prerequisites.append(Prerequisite(parts.first ?? "", policy: policy))
        }
        var payloadValue = JSONValue.null
        if let payload {
            payloadValue = try Self.readPayload(payload)
        }
        let retvals = Self.retvalReferences(in: payloadValue)
        for reference in retvals where !prerequisites.contains(where: { $0.id == reference }) {
            throw JobqError(.invalidReference, "the payload uses the result of \(reference) ({\"$retval\": \"\(reference)\"}), which is not a prerequisite; add --after \(reference)", subject: reference)
        }
        var spec = TaskSpec(id: id, handler: handler, queue: queue ?? TaskSpec.defaultQueue, payload: payloadValue.bytes, prerequisites: prerequisites)
        // Each numeric option is checked here, in its own words: `--retries 5000` must not be
        // reported as "max attempts … got 5001" by the engine's check of the spec.
        let limits = Limits()
        if let retries {
            let allowed = (limits.attempts.lowerBound - 1)...(limits.attempts.upperBound - 1)
            guard allowed.contains(retries) else {
                throw JobqError(.invalidOption, "--retries must be from \(allowed.lowerBound) to \(allowed.upperBound) (re-runs after a failure); got \(retries)")
            }
            spec.maxAttempts = retries + 1
        }
        if let maxAttempts {
            guard limits.attempts.contains(maxAttempts) else {
                throw JobqError(.invalidOption, "--max-attempts must be from \(limits.attempts.lowerBound) to \(limits.attempts.upperBound) (total runs); got \(maxAttempts)")
            }
            spec.maxAttempts = maxAttempts
        }
        if let maxSnoozes {
            guard limits.snoozes.contains(maxSnoozes) else {
                throw JobqError(.invalidOption, "--max-snoozes must be from \(limits.snoozes.lowerBound) to \(limits.snoozes.upperBound); got \(maxSnoozes)")
            }
            spec.maxSnoozes = maxSnoozes
        }
        if let priority {
            guard TaskSpec.priorities.contains(priority) else {
                throw JobqError(.invalidOption, "--priority must be from \(TaskSpec.priorities.lowerBound) to \(TaskSpec.priorities.upperBound) (higher first); got \(priority)")
            }
            spec.priority = priority
        }
        if let timeout { spec.timeout = try Self.duration(timeout, option: "--timeout", in: limits.timeout) }
        if let delay { spec.delay = try Self.duration(delay, option: "--delay", in: limits.delay) }
        if let keep { spec.resultTTL = try Self.duration(keep, option: "--keep", in: limits.resultTTL) }
        if let title { spec.title = title }
        if let expires {
            let value = try Self.deadline(expires, option: "--expires")
            try value.validate("--expires", maximum: TaskSpec.maxExpiry) // in the option's own words
            spec.expires = value
        }
        switch (concurrencyKey, concurrencyLimit) {
        case (nil, nil): break
        case (_?, nil): throw JobqError(.invalidOption, "--concurrency-key needs --concurrency-limit N (how many of its tasks may run at once; 1 runs them one at a time, in order)")
        case (nil, _?): throw JobqError(.invalidOption, "--concurrency-limit needs --concurrency-key (which tasks it counts together)")
        case (let key?, let limit?): spec.concurrency = ConcurrencyLimit(key: key, limit: limit)
        }
        switch (rateKey, rateLimit) {
        case (nil, nil): break
        case (_?, nil): throw JobqError(.invalidOption, "--rate-key needs --rate-limit N/DURATION (how many of its tasks may start per interval, e.g. 100/1m)")
        case (let key, let text?): spec.rate = try RateLimit(parsing: text, key: key, setting: "--rate-limit")
        }
        spec.fairKey = fairKey
        spec.waitFor = try declaredWait()
        spec.uniqueness = try Uniqueness.parse(key: uniqueKey, scope: uniqueFor, debounce: debounce, throttle: throttle, spelling: .cli)
        if let backoff {
            guard let parsed = BackoffText.parse(backoff) else {
                throw JobqError(.invalidOption, "--backoff \"\(backoff)\" is not \(BackoffText.grammar)")
            }
            spec.backoff = parsed
        }
        if let workflow { try Validation.check(name: workflow, as: .workflow) }
        if let key { try Validation.check(name: key, as: .idempotencyKey) }
        try spec.validate(limits: Limits())
        return spec
    }

    /// A duration option's value, parsed and range-checked, with errors that name the option.
    static func duration(_ text: String, option: String, in range: ClosedRange<Duration>) throws(JobqError) -> Duration {
        guard let duration = DurationText.parse(text) else {
            let negative = text.trimmingCharacters(in: .whitespaces).hasPrefix("-") ? " (it cannot be negative)" : ""
            throw JobqError(.invalidOption, "\(option) \"\(text)\" is not a duration\(negative): use \(DurationText.grammar)")
        }
        guard range.contains(duration) else {
            throw JobqError(.invalidOption, "\(option) must be from \(DurationText.format(range.lowerBound)) to \(DurationText.format(range.upperBound)); got \(text)")
        }
        return duration
    }

    /// The payload argument: JSON text, `@file` or `-`; checked as JSON with a line and column.
    static func readPayload(_ argument: String) throws -> JSONValue {
        let bytes: [UInt8]
        let source: String
        if argument == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
            source = "the payload from stdin"
        } else if argument.hasPrefix("@") {
            let path = String(argument.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else {
                throw JobqError(.fileNotFound, "--payload @\(path): cannot read the file; check the path", subject: path)
            }
            bytes = Array(data)
            source = "the payload file \(path)"
        } else {
            bytes = Array(argument.utf8)
            source = "--payload"
        }
        let limits = Limits()
        guard bytes.count <= limits.maxPayloadBytes + 4096 else {
            throw JobqError(.payloadTooLarge, "\(source) is \(bytes.count) bytes; the limit is \(limits.maxPayloadBytes) (store large data elsewhere and pass a reference)")
        }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            let quoteHint = argument.hasPrefix("{") || argument.hasPrefix("[") || argument.hasPrefix("\"") ? "" : " (a string must be quoted: --payload '\"text\"')"
            throw JobqError(.invalidPayload, "\(source) is not valid JSON: \(error)\(quoteHint)")
        }
    }

    static func retvalReferences(in value: JSONValue) -> [String] {
        var found: [String] = []
        var stack = [value]
        while let current = stack.popLast() {
            switch current {
            case .object(let pairs):
                if pairs.count == 1, pairs[0].0 == RetvalReference.key, case .string(let id) = pairs[0].1 {
                    found.append(id)
                } else {
                    stack += pairs.map(\.1)
                }
            case .array(let items): stack += items
            default: break
            }
        }
        return found
    }

    // MARK: Workflow file

    private func submitFile(_ path: String) async throws {
        let json = output.json
        let file: WorkflowFile
        let runID = run ?? workflow
        do {
            if let runID { try Validation.check(name: runID, as: .run) }
            if let queue { try Validation.check(name: queue, as: .queue) }
            if let key { try Validation.check(name: key, as: .idempotencyKey) }
            file = try WorkflowFile.load(path: path, overrides: .init(workflow: nil, queue: queue))
            if let block = file.schedule, !once {
                // a file that says when it runs is added as a schedule; submitting it now is a choice
                throw JobqError(.invalidOption, "\(file.name):\(block.line): the file has a `schedule:` block: add it with `jobq schedule add -f \(path)`, or submit one run now with --once")
            }
        } catch {
            throw CommandRunner.report(error, json: json).exitCode
        }
        var options = file.runOptions(id: runID, definition: file.workflow ?? Self.definitionName(path: path))
        do {
            if let window { options.window = window }
            if let deadline { options.deadline = try Self.deadline(deadline) }
            if failFast { options.failFast = true }
            try options.validate()
        } catch {
            throw CommandRunner.report(error, json: json).exitCode
        }
        let specs = file.entries.map(\.spec)
        if dryRun && file.externalPrerequisites.isEmpty && runID == nil {
            try await CommandRunner.runOffline(json: json) {
                printPlan(run: options, specs: specs)
                return .ok
            }
            return
        }
        try await CommandRunner.run(connection, json: json) { client in
            // Outside prerequisites must exist: check now, to point at the line that names them.
            let outside = file.externalPrerequisites
            if !outside.isEmpty {
                let states = try await client.states(of: outside.map(\.prerequisite))
                if let (missing, _) = zip(outside, states).first(where: { $0.1 == nil }) {
                    let suggestion = Suggestion.closest(to: missing.prerequisite, among: file.entries.map(\.id)).map { "; did you mean \"\($0)\"?" } ?? ""
                    throw JobqError(
                        .unknownDependency,
                        "\(file.name):\(missing.line):\(missing.column): task \"\(missing.task)\" comes after \"\(missing.prerequisite)\", which is neither a task of this file nor an existing task\(suggestion)",
                        subject: missing.task
                    )
                }
            }
            if dryRun {
                // What the real submit would refuse besides the file: a run id that is taken.
                if let runID, try await client.workflowExists(runID) {
                    throw JobqError(.runExists, "a run with id \(runID) already exists; choose another --run id or omit it to get a generated one", subject: runID)
                }
                printPlan(run: options, specs: specs)
                return .ok
            }
            if strict { try await client.checkServer().requireSafe() }
            let submitted: WorkflowRun
            do {
                submitted = try await client.submit(specs, run: options, idempotencyKey: key)
            } catch let error as JobqError {
                if let runID, let taken = error.runExists(runID) { throw taken }
                // Point at the task the engine refused, when it names one of ours.
                if let subject = error.subject.map(RunScope.key(of:)), let entry = file.entries.first(where: { $0.id == subject }) {
                    throw JobqError(error.code, "\(file.name):\(entry.line): task \"\(subject)\": \(error.message)", subject: subject)
                }
                throw error
            }
            if json {
                Console.out(JSONValue.object([
                    ("run", .string(submitted.id)),
                    ("workflow", .string(submitted.id)),
                    ("definition", .string(options.definition)),
                    ("created", .bool(submitted.created)),
                    ("tasks", .array(submitted.submitted.map { .object([("id", .string($0.id)), ("key", .string(RunScope.key(of: $0.id))), ("state", .optional($0.state?.rawValue))]) })),
                ]).rendered())
            } else {
                Console.out(submitted.id)
                if Terminal.stderrIsTTY {
                    let note = submitted.created ? "" : " (already submitted with this --key)"
                    Console.err("started run \(submitted.id) of \(options.definition): \(submitted.submitted.count) task(s)\(note); follow it with: jobq watch \(submitted.id)")
                }
            }
            return .ok
        }
    }

    /// `--json`'s `outcome`: created, replayed, deduplicated, debounced, throttled.
    static func outcomeWord(_ outcome: SubmitOutcome) -> String { String(describing: outcome) }

    /// What the terminal line adds when nothing new was created.
    static func outcomeNote(_ outcome: SubmitOutcome) -> String {
        switch outcome {
        case .created: ""
        case .replayed: " (already submitted with this --key)"
        case .deduplicated: " (its unique key is held: this is the existing task)"
        case .debounced: " (debounced: the waiting task has the new payload and starts later)"
        case .throttled: " (throttled: the task that opened the key's interval)"
        }
    }

    /// `--deadline 30m` / `--expires 10m`, or an ISO 8601 time (`2026-12-02T06:00:00Z`).
    static func deadline(_ text: String, option: String = "--deadline") throws(JobqError) -> Deadline {
        guard let deadline = DurationText.deadline(text) else {
            throw JobqError(.invalidOption, "\(option) \"\(text)\" is neither \(DurationText.deadlineGrammar)")
        }
        return deadline
    }

    /// A file without `workflow:` names its definition after itself: `flows/nightly.yaml` →
    /// `nightly` (stdin: `workflow`), cut to the name grammar.
    static func definitionName(path: String) -> String {
        guard path != "-" else { return "workflow" }
        var base = String(path.split(separator: "/").last ?? "workflow")
        if let dot = base.lastIndex(of: "."), dot != base.startIndex { base = String(base[..<dot]) }
        let cleaned = String(base.unicodeScalars.map { Validation.isNameByte(UInt8(truncatingIfNeeded: $0.value)) && $0.isASCII ? Character($0) : "-" })
        return cleaned.isEmpty ? "workflow" : String(cleaned.prefix(100))
    }

    /// `--dry-run` of a file: the run it would start.
    private func printPlan(run: RunOptions, specs: [TaskSpec]) {
        printPlan(workflow: run.id, definition: run.definition, runOptions: run, specs: specs)
    }

    /// `--dry-run`: the tasks in submission order with what they wait for.
    private func printPlan(workflow: String?, definition: String? = nil, runOptions: RunOptions? = nil, specs: [TaskSpec]) {
        if output.json {
            Console.out(JSONValue.object([
                ("workflow", .optional(workflow)),
                ("run", .optional(definition == nil ? nil : workflow)),
                ("definition", .optional(definition)),
                ("options", .object((runOptions?.recordFields ?? []).map { ($0.0.rawValue, .string($0.1)) })),
                ("dry_run", .bool(true)),
                ("tasks", .array(specs.map { spec in
                    .object([
                        ("id", .optional(spec.id)),
                        ("handler", .string(spec.handler)),
                        ("queue", .string(spec.queue)),
                        ("priority", .int(spec.priority)),
                        ("title", .string(spec.title)),
                        ("after", .array(spec.prerequisites.map { .object([("id", .string($0.id)), ("policy", .string($0.policy.rawValue))]) })),
                        ("max_attempts", .int(spec.maxAttempts)),
                        ("max_snoozes", .int(spec.maxSnoozes)),
                        ("timeout_ms", .int(spec.timeout.inMilliseconds)),
                        ("delay_ms", .int(spec.delay.inMilliseconds)),
                        ("expires", .optional(spec.expires.map(\.scriptArgument))),
                        ("concurrency_key", .optional(spec.concurrency.flatMap { try? $0.expandedKey(payload: spec.payload) })),
                        ("concurrency_limit", .optional(spec.concurrency?.limit)),
                        ("unique_key", .optional(spec.uniqueness.flatMap { try? $0.expandedKey(payload: spec.payload) })),
                        ("unique_mode", .optional(spec.uniqueness?.modeText)),
                        ("rate_key", .optional(spec.rate.flatMap { try? $0.template(queue: spec.queue).expand(payload: spec.payload) })),
                        ("rate_limit", .optional(spec.rate?.text)),
                        ("fair_key", .optional(spec.fairKey.flatMap { try? FairKey.expand($0, payload: spec.payload) })),
                        ("payload", .stored(spec.payload)),
                    ])
                })),
            ]).rendered())
            return
        }
        var table = Table([
            .init(header: "TASK", max: 24), .init(header: "HANDLER", max: 20), .init(header: "QUEUE", max: 12),
            .init(header: "RUNS", max: 4, alignRight: true), .init(header: "AFTER", max: 40, flexible: true),
        ])
        for spec in specs {
            let after = spec.prerequisites.map { $0.policy == .always ? $0.id + ":always" : $0.id }.joined(separator: ", ")
            table.add([.init(spec.id ?? "(generated)"), .init(spec.handler), .init(spec.queue), .init(String(spec.maxAttempts)), .init(after.isEmpty ? "-" : after)])
        }
        let scope = definition.map { " in a new run of \($0)" + (workflow.map { " (\($0))" } ?? "") } ?? workflow.map { " in workflow \($0)" } ?? ""
        Console.out("dry run: \(specs.count) task(s)\(scope); nothing was submitted")
        table.render().forEach { Console.out($0) }
    }
}

extension SubmitCommand {
    /// `--wait-for NAME [--wait-timeout D] [--on-timeout fail|skip|run]`; the latter two only
    /// with the first.
    func declaredWait() throws -> DeclaredWait? {
        guard let waitFor else {
            if waitTimeout != nil || onTimeout != nil {
                throw JobqError(.invalidOption, "--wait-timeout and --on-timeout go with --wait-for NAME")
            }
            return nil
        }
        var wait = DeclaredWait(waitFor)
        if let waitTimeout { wait.timeout = try Self.duration(waitTimeout, option: "--wait-timeout", in: .milliseconds(1)...(.seconds(366 * 24 * 3600))) }
        if let onTimeout {
            guard let action = DeclaredWait.OnTimeout(rawValue: onTimeout) else {
                throw JobqError(.invalidOption, "--on-timeout must be fail, skip or run; got \(onTimeout)")
            }
            wait.onTimeout = action
        }
        return wait
    }
}
