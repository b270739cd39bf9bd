import Foundation
import Jobq
import JobqCore

/// Where `jobq events --since` starts: a stream id (`1700000000000-0`, as `--json` prints in
/// `stream_id`), a duration ago (`10m`, the one grammar of ``DurationText``), or an ISO 8601
/// time (`2026-05-01T12:00:00Z`).
enum EventSince {
    case id(EventStreamID)
    case ago(Duration)
    case at(Date)

    /// Throws `invalid_option` (exit 64) for text that is none of the three.
    static func parse(_ text: String) throws(JobqError) -> EventSince {
        if let id = EventStreamID(text) { return .id(id) }
        if let duration = DurationText.parse(text) { return .ago(duration) }
        if let date = ISO8601DateFormatter().date(from: text) ?? fractional.date(from: text) { return .at(date) }
        throw JobqError(
            .invalidOption,
            "--since \"\(text)\" is neither a stream id (MILLISECONDS-SEQUENCE, e.g. 1700000000000-0), a duration ago (\(DurationText.grammar)) nor an ISO 8601 time such as 2026-05-01T12:00:00Z"
        )
    }

    /// The first stream id to read (inclusive). A duration is measured back from Redis's clock,
    /// which wrote the ids, so a skewed clock on this machine does not matter.
    func start(client: JobqClient) async throws(JobqError) -> EventStreamID {
        switch self {
        case .id(let id):
            return id
        case .ago(let duration):
            let now = try await client.serverTime()
            return EventStreamID(milliseconds: UInt64(max(0, now - duration.inMilliseconds)))
        case .at(let date):
            return EventStreamID(milliseconds: UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down))))
        }
    }

    /// `2026-05-01T12:00:00.250Z`: the default formatter refuses fractional seconds.
    private static var fractional: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
