import Foundation
import JobqCore

/// Prints `jobq events` lines: one line per transition, as text or as one JSON object
/// (NDJSON, never indented: a stream of objects for `jq` and log shippers, also on a terminal).
///
/// Text: local time with milliseconds, the task id (or `run RUN`), `FROM → TO` in the state
/// colours, the attempt (task lines) and the reason — `(new)` for a task's or run's creation.
struct EventPrinter {
    let json: Bool
    let terminal: Terminal
    /// One formatter for the whole command: making one per line would cost more than the line.
    private let formatter: DateFormatter

    init(json: Bool, terminal: Terminal = .current) {
        self.json = json
        self.terminal = terminal
        formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
    }

    func print(_ record: TaskEventRecord) {
        Console.out(json ? Self.json(record).rendered() : text(record))
    }

    func text(_ record: TaskEventRecord) -> String {
        let time = formatter.string(from: Date(timeIntervalSince1970: Double(record.time) / 1000))
        if let schedule = record.schedule {
            // `fired:RUN` → `fired RUN`: what happened to the schedule, and the run or tick
            return [terminal.paint(time, .dim), "schedule " + schedule, record.reason.replacingOccurrences(of: ":", with: " ")].joined(separator: "  ")
        }
        if let queue = record.pausedQueue {
            return [terminal.paint(time, .dim), "queue " + queue, record.reason, "by " + (record.actor ?? "?")].joined(separator: "  ")
        }
        let from = record.from.map { terminal.paint(state: $0) } ?? terminal.paint("(new)", .dim)
        var parts = [
            terminal.paint(time, .dim),
            record.isRunLine ? "run " + (record.run ?? "") : record.task,
            from + " → " + terminal.paint(state: record.to),
        ]
        if !record.isRunLine { parts.append("attempt \(record.attempt)") }
        if !record.reason.isEmpty { parts.append(record.reason) }
        if let actor = record.actor { parts.append("by " + actor) }
        return parts.joined(separator: "  ")
    }

    /// The line as JSON (``TaskEventRecord/json``, shared with the dashboard's live feed).
    static func json(_ record: TaskEventRecord) -> JSONValue { record.json }
}
