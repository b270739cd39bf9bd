import Foundation
import JobqCore

/// The lines of an attempt history, shared by `status ID` and `debrief`: one line per attempt
/// and, under it, the first line of its error (its own line, so that it is not clipped away):
///
///     #2   worker-7f3a  05-01 02:47:01  1.2s    failed, retried (timeout)
///          ConnectionError: upstream timed out
enum AttemptLines {
    /// What an outcome means, in words (the stored word is in `--json`).
    static func describe(_ attempt: TaskAttempt) -> String {
        let words: String
        switch attempt.outcome {
        case .done: words = "done"
        case .retried: words = "failed, retried"
        case .failed: words = "failed"
        case .handedBack: words = "handed back (not charged)"
        case .diedRefunded: words = "worker died (not charged)"
        case .diedCharged: words = "worker died, ran alone (charged)"
        case .diedFinal: words = "worker died, ran alone, last attempt"
        case .cancelled: words = "cancelled"
        case .snoozed: words = "snoozed (not charged)"
        case .waiting: words = "waits for a signal (not charged)"
        }
        let reason = attempt.reason
        let redundant = reason.isEmpty || reason == attempt.outcome.rawValue || reason == "snoozed" || reason == "waiting" || reason == "cancelled" || reason == "lease_expired" || reason == "shutdown"
        return redundant ? words : words + " (\(reason))"
    }

    static func lines(_ attempts: some Collection<TaskAttempt>, width: Int, terminal: Terminal, indent: String) -> [String] {
        let workerWidth = min(attempts.map(\.worker.count).max() ?? 0, 24)
        let formatter = DateFormatter()
        formatter.dateFormat = "MM-dd HH:mm:ss"
        var lines: [String] = []
        for attempt in attempts {
            lines.append(ProgressBar.clip(
                indent + padded("#\(attempt.attempt)", to: 4) + " " + padded(attempt.worker.isEmpty ? "-" : attempt.worker, to: workerWidth)
                    + "  " + formatter.string(from: Date(timeIntervalSince1970: Double(attempt.started) / 1000))
                    + "  " + padded(DurationText.format(attempt.duration), to: 6)
                    + "  " + terminal.paint(describe(attempt), color(attempt.outcome)),
                to: width))
            if let first = attempt.error.split(separator: "\n", omittingEmptySubsequences: true).first {
                lines.append(ProgressBar.clip(indent + "     " + String(first), to: width))
            }
        }
        return lines
    }

    private static func color(_ outcome: AttemptOutcome) -> Terminal.Color? {
        switch outcome {
        case .done: .green
        case .failed, .diedFinal: .red
        case .retried, .diedCharged, .diedRefunded, .cancelled: .yellow
        case .handedBack, .snoozed, .waiting: nil
        }
    }
}
