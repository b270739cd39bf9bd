import Foundation
import JobqCore
import Logging
import Synchronization

/// Log lines on stderr, one per event: `text` (`2025-01-31T12:00:00.123Z info worker started
/// queues=default`) for people, `json` (one object per line) for log shippers.
struct StderrLogHandler: LogHandler {
    enum Format: String, CaseIterable, Sendable {
        case text
        case json
    }

    let label: String
    let format: Format
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, format: Format, level: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    private static let lock = Mutex(())

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { current, _ in current } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        let line: String
        switch format {
        case .text:
            var text = "\(Self.timestamp()) \(event.level) \(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                text += " \(key)=\(Self.textValue(value))"
            }
            line = text + "\n"
        case .json:
            // Fixed fields first, then metadata by key: a stable order for log shippers and diffs.
            var fields: [(String, JSONValue)] = [
                ("ts", .string(Self.timestamp())),
                ("level", .string("\(event.level)")),
                ("msg", .string(event.message.description)),
                ("logger", .string(label)),
            ]
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !["ts", "level", "msg", "logger"].contains(key) {
                fields.append((key, .string(Self.plain(value))))
            }
            line = JSONValue.object(fields).rendered() + "\n"
        }
        var bytes = Array(line.utf8)
        Self.lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    break
                }
                offset += written
            }
        }
        bytes.removeAll()
    }

    private static func plain(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(plain).joined(separator: ",")
        case .dictionary(let values): values.sorted { $0.key < $1.key }.map { "\($0.key)=\(plain($0.value))" }.joined(separator: ",")
        }
    }

    /// Values with spaces, quotes or `=` are quoted so lines stay machine-splittable.
    private static func textValue(_ value: Logger.Metadata.Value) -> String {
        let text = plain(value)
        if text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) {
            return quote(text)
        }
        return text
    }

    /// A JSON string literal (JobqCore's one escaper), also used to quote text values.
    static func quote(_ text: String) -> String { JSONValue.quoted(text) }

    /// UTC, millisecond precision, without a DateFormatter on the hot path.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
