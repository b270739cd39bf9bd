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
/// - `JOBQ_CHECKPOINT {json}`: saved as the task's checkpoint (fenced, in order, before the
///   attempt's outcome is recorded). Not JSON, or over 64 KiB: refused with a log line, the run
///   goes on (a lost checkpoint costs work, not correctness).
///
/// A stderr line was chosen over an exit code (as `skip_exit_code`) because a snooze needs a
/// delay, and a line needs no configuration.
final class CommandDirectives: Sendable {
    static let snoozePrefix = "JOBQ_SNOOZE "
    static let checkpointPrefix = "JOBQ_CHECKPOINT "

    private struct State {
        var snooze: Duration?
        var badSnooze: String?
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
        if line.hasPrefix(Self.checkpointPrefix) {
            checkpoint(Array(line.dropFirst(Self.checkpointPrefix.count).utf8), line: line)
            return true
        }
        return false
    }

    private func snooze(_ text: String, line: String) {
        if let delay = DurationText.parse(text), Limits.snoozeDelay.contains(delay) {
            state.withLock { $0.snooze = delay }
        } else {
            context.log(line)
            state.withLock { $0.badSnooze = text }
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
        state.withLock { state in
            let previous = state.saving
            state.saving = Task {
                await previous?.value
                do throws(JobqError) {
                    try await context.saveCheckpoint(json: json)
                } catch {
                    context.log("[jobq: checkpoint not saved: \(error.message)]")
                }
            }
        }
    }

    /// Waits until every checkpoint line seen so far is saved (or refused); then what the
    /// command asked for: a snooze, a bad snooze line, or nothing.
    func finish() async -> HandlerError? {
        let saving = state.withLock { $0.saving }
        await saving?.value
        let (snooze, bad) = state.withLock { ($0.snooze, $0.badSnooze) }
        if let bad {
            return HandlerError.retry("bad JOBQ_SNOOZE line \"\(bad.prefix(100))\": expected a duration between 1ms and 366d, such as 30s or 5m", reason: "bad_snooze")
        }
        return snooze.map { HandlerError.snooze(for: $0, "the command asked to snooze for \(DurationText.format($0))") }
    }
}
