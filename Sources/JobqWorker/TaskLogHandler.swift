import Logging

/// The log handler behind ``HandlerContext/logger``: every line goes to the task's own log
/// (kept in Redis, capped) and, at or above the worker's level, to the worker's log with the
/// task id as metadata.
struct TaskLogHandler: LogHandler {
    private var upstream: any LogHandler
    private let reporter: TaskReporter
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level

    init(upstream: any LogHandler, reporter: TaskReporter, taskID: String) {
        var upstream = upstream
        upstream[metadataKey: "task"] = .string(taskID)
        self.upstream = upstream
        self.reporter = reporter
        self.metadataProvider = upstream.metadataProvider
        // The task's log keeps info and above even when the worker logs only warnings.
        self.logLevel = min(upstream.logLevel, .info)
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { current, _ in current } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        var line = "\(event.level): \(event.message)"
        if !merged.isEmpty {
            line += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        reporter.add(line: line)
        if event.level >= upstream.logLevel {
            var forwarded = event
            forwarded.metadata = merged.isEmpty ? nil : merged
            upstream.log(event: forwarded)
        }
    }
}
