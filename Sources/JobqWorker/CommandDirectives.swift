import Jobq
import JobqCore
import Synchronization

/// The stderr lines a command handler speaks to the worker with, besides its log and
/// `JOBQ_PROGRESS` (``CommandRunner/reportProgress(_:_:)``):
///
/// - `JOBQ_SNOOZE 30s` (a duration as everywhere in jobq: `500ms`, `30s`, `5m`, `1h30m`, `2d`;
///   1 ms to 366 days): when the command ends, however it exits, the task snoozes (runs again
///   after the delay without using an attempt). The last such line wins. A line that does not
///   parse, or a delay out of range, is logged and fails the attempt (reason `bad_snooze`): a
///   handler that meant to wait must not be taken as having succeeded or failed otherwise.
/// - `JOBQ_RATE_LIMITED 30s` (the same duration grammar and range): backpressure, "the service
///   said 429, retry after 30 s": as `JOBQ_SNOOZE`, and the task's rate key (`rate_key`) pauses
///   for the delay, on every worker; without a rate key, a snooze. It shares the snooze's line
///   slot: the last of the two wins; a bad one fails the attempt (reason `bad_snooze`).
/// - `JOBQ_CHECKPOINT {json}`: saved as the task's checkpoint (fenced, in order, before the
///   attempt's outcome is recorded). Not JSON, or over 64 KiB: refused with a log line, the run
///   goes on (a lost checkpoint costs work, not correctness).
///
/// - `JOBQ_WAIT approve [1h]`: when the command ends, however it exits, the task waits (holding
///   no slot) for the signal `approve`, at most the duration if one is given (then FAILED,
///   `signal_timeout`); the command runs again from its start when the signal comes, and finds it
///   in `JOBQ_SIGNALS_FILE`. A wait for a signal the file already holds is ignored (logged): the
///   command had it, so its exit decides, as a Swift `waitForSignal` returns at once.
/// - `JOBQ_ASK {"question": "Overwrite?", "choices": ["yes", "no"], "timeout": "1h"}`: the same
///   for a question `jobq answer TASK CHOICE` answers; the next run gets the answer in
///   `JOBQ_ANSWER`. A question already answered is ignored (logged) likewise.
///   A wait or a question that does not parse fails the attempt (reason `bad_wait`). A wait
///   takes precedence over a snooze; the last wait line wins.
///
/// - `JOBQ_SPAWN {json}` (``CommandSpawn``): spawns children at once, in order with the
///   checkpoints (fenced by the task's lease; the same key again attaches). A line that does not
///   parse, or a spawn refused, fails the attempt when the command ends (reason `bad_spawn`):
///   the command must not be taken as having spawned.
/// - `JOBQ_WAIT_CHILDREN [KEY]`: when the command ends, however it exits, the task waits (no
///   slot) for the children spawned under KEY (default `children`), and the command runs again
///   from its start when they have ended, with their results in `JOBQ_CHILDREN_FILE`. A wait for
///   a run that has ended is ignored: the command had its results.
///
/// A stderr line was chosen over an exit code (as `skip_exit_code`) because a snooze needs a
/// delay, and a line needs no configuration.
final class CommandDirectives: Sendable {
    static let snoozePrefix = "JOBQ_SNOOZE "
    static let rateLimitedPrefix = "JOBQ_RATE_LIMITED "
    static let checkpointPrefix = "JOBQ_CHECKPOINT "
    static let waitPrefix = "JOBQ_WAIT "
    static let askPrefix = "JOBQ_ASK "
    static let waitChildren = "JOBQ_WAIT_CHILDREN"

    private struct State {
        var snooze: Duration?
        /// The snooze line was `JOBQ_RATE_LIMITED` (pause the task's rate key too).
        var rateLimited = false
        var badSnooze: String?
        var wait: SignalWait?
        var badWait: String?
        /// `JOBQ_WAIT_CHILDREN`'s key; a spawn line that failed.
        var waitChildren: String?
        var badSpawn: String?
        /// The last checkpoint save started; each save waits for the one before (order kept).
        var saving: Task<Void, Never>?
    }

    private let state = Mutex(State())
    private let context: HandlerContext

    init(context: HandlerContext) {
        self.context = context
    }

    /// Handles `line` if it is a directive; false for anything else (a log line).
    func handle(_ line: String) -> Bool {
        if line.hasPrefix(Self.snoozePrefix) {
            snooze(String(line.dropFirst(Self.snoozePrefix.count)).trimmingCharacters(in: .whitespaces), line: line)
            return true
        }
        if line.hasPrefix(Self.rateLimitedPrefix) {
            snooze(String(line.dropFirst(Self.rateLimitedPrefix.count)).trimmingCharacters(in: .whitespaces), line: line, rateLimited: true)
            return true
        }
        if line.hasPrefix(CommandSpawn.prefix) {
            spawn(String(line.dropFirst(CommandSpawn.prefix.count)), line: line)
            return true
        }
        if line == Self.waitChildren || line.hasPrefix(Self.waitChildren + " ") {
            let key = line.dropFirst(Self.waitChildren.count).trimmingCharacters(in: .whitespaces)
            state.withLock { $0.waitChildren = key.isEmpty ? HandlerContext.defaultSpawnKey : key }
            return true
        }
        if line.hasPrefix(Self.waitPrefix) || line.hasPrefix(Self.askPrefix) {
            wait(line)
            return true
        }
        if line.hasPrefix(Self.checkpointPrefix) {
            checkpoint(Array(line.dropFirst(Self.checkpointPrefix.count).utf8), line: line)
            return true
        }
        return false
    }

    private func snooze(_ text: String, line: String, rateLimited: Bool = false) {
        if let delay = DurationText.parse(text), Limits.snoozeDelay.contains(delay) {
            state.withLock {
                $0.snooze = delay
                $0.rateLimited = rateLimited
            }
        } else {
            context.log(line)
            state.withLock { $0.badSnooze = text }
        }
    }

    private func wait(_ line: String) {
        guard let wait = Self.parseWait(line) else {
            context.log(line)
            state.withLock { $0.badWait = line }
            return
        }
        if context.rawSignal(wait.name) != nil {
            context.log("[jobq: \(wait.question == nil ? "the signal \(wait.name)" : "the question") is answered already (JOBQ_SIGNALS_FILE): the wait is ignored]")
            return
        }
        state.withLock { $0.wait = wait }
    }

    /// `JOBQ_WAIT name [duration]` or `JOBQ_ASK {json}`; `nil` when it does not parse.
    static func parseWait(_ line: String) -> SignalWait? {
        if line.hasPrefix(waitPrefix) {
            let words = line.dropFirst(waitPrefix.count).split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard (1...2).contains(words.count), (try? Validation.check(name: words[0], as: .signal)) != nil else { return nil }
            let timeout = words.count == 2 ? DurationText.parse(words[1]) : nil
            if words.count == 2, timeout == nil { return nil }
            return SignalWait(name: words[0], timeout: timeout, question: nil)
        }
        guard let value = try? JobqCore.JSONValue.parse(String(line.dropFirst(askPrefix.count))),
              let text = value["question"]?.stringValue, case .array(let items)? = value["choices"]
        else { return nil }
        let choices = items.compactMap(\.stringValue)
        guard choices.count == items.count, let question = try? SignalQuestion(text, choices: choices) else { return nil }
        var timeout: Duration?
        if let given = value["timeout"] {
            guard let text = given.stringValue, let parsed = DurationText.parse(text) else { return nil }
            timeout = parsed
        }
        return SignalWait(name: question.signalName, timeout: timeout, question: question)
    }

    /// Spawns now, after the saves and spawns before it (order kept); a failure is kept for
    /// ``finish()``.
    private func spawn(_ text: String, line: String) {
        let parsed: CommandSpawn
        do { parsed = try CommandSpawn.parse(text) } catch {
            context.log("[jobq: spawn refused: \(error.message)]")
            state.withLock { $0.badSpawn = error.message }
            return
        }
        let context = self.context
        inOrder {
            do throws(JobqError) {
                let run = try await context.spawn(parsed.request, key: parsed.key, onChildFailure: parsed.policy)
                context.log("[jobq: \(run.created ? "spawned" : "attached to") child run \(run.id) (\(run.state.rawValue))]")
            } catch {
                context.log("[jobq: spawn refused: \(error.message)]")
                self.state.withLock { $0.badSpawn = error.message }
            }
        }
    }

    /// Runs `work` after every save and spawn started before it (their order is the lines').
    private func inOrder(_ work: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            let previous = state.saving
            state.saving = Task {
                await previous?.value
                await work()
            }
        }
    }

    private func checkpoint(_ json: [UInt8], line: String) {
        do {
            try LeaseStore.checkCheckpoint(json, limits: Limits())
        } catch {
            context.log("[jobq: checkpoint refused: \(error.message)]")
            return
        }
        let context = self.context
        inOrder {
            do throws(JobqError) {
                try await context.saveCheckpoint(json: json)
            } catch {
                context.log("[jobq: checkpoint not saved: \(error.message)]")
            }
        }
    }

    /// Waits until every checkpoint line seen so far is saved (or refused); then what the
    /// command asked for: a wait, a snooze, a bad line, or nothing.
    func finish() async -> HandlerError? {
        let saving = state.withLock { $0.saving }
        await saving?.value
        let (snooze, bad, wait, badWait, rateLimited) = state.withLock { ($0.snooze, $0.badSnooze, $0.wait, $0.badWait, $0.rateLimited) }
        let (badSpawn, waitChildren) = state.withLock { ($0.badSpawn, $0.waitChildren) }
        if let badSpawn { return HandlerError.retry("JOBQ_SPAWN failed: \(badSpawn.prefix(300))", reason: "bad_spawn") }
        if let waitChildren {
            do {
                try await context.waitForChildren(key: waitChildren)
                context.log("[jobq: the children of key \(waitChildren) have ended: the wait is ignored]")
            } catch let error as HandlerError {
                return error
            } catch {
                return HandlerError.retry("JOBQ_WAIT_CHILDREN \(waitChildren): \(error)", reason: "bad_wait")
            }
        }
        if let badWait {
            return HandlerError.retry("bad line \"\(badWait.prefix(100))\": expected JOBQ_WAIT NAME [DURATION] or JOBQ_ASK {\"question\": \"…\", \"choices\": [\"…\"]}", reason: "bad_wait")
        }
        if let wait { return HandlerError.waiting(wait) }
        if let bad {
            return HandlerError.retry("bad JOBQ_SNOOZE/JOBQ_RATE_LIMITED line \"\(bad.prefix(100))\": expected a duration between 1ms and 366d, such as 30s or 5m", reason: "bad_snooze")
        }
        if rateLimited, let snooze {
            return HandlerError.rateLimited(retryAfter: snooze, "the command reported rate limiting: retry after \(DurationText.format(snooze))")
        }
        return snooze.map { HandlerError.snooze(for: $0, "the command asked to snooze for \(DurationText.format($0))") }
    }
}
