import Foundation

/// Who asked for an operator action (cancel, retry, pause, resume, signal, answer): the `by`
/// field of the event entries the action writes, shown by `jobq events` and the dashboard.
/// The CLI names `$USER@host` (or `--actor`), the dashboard its authenticated user (`token`
/// for a bare token, `dashboard` without authentication) at the client's address.
package enum ActorName {
    /// Longest name kept: it is written with every event entry of the action.
    package static let maxLength = 200

    /// `name` on one line (control characters become spaces), trimmed, at most ``maxLength``
    /// characters; `nil` when nothing is left.
    package static func clean(_ name: String) -> String? {
        let line = String(String.UnicodeScalarView(name.unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? " " : $0 }))
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : String(trimmed.prefix(maxLength))
    }

    /// This process's user at this host: `$USER@host` (`LOGNAME`, then `unknown`, when `USER` is unset).
    package static var local: String {
        let environment = ProcessInfo.processInfo.environment
        let user = environment["USER"] ?? environment["LOGNAME"] ?? "unknown"
        return user + "@" + ProcessInfo.processInfo.hostName
    }
}
