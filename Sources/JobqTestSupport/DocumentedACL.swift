import Foundation

/// The Redis ACL of `docs/security.md`, read from its ```acl block: the doc is the one place the
/// ACL is written down, and tests run with exactly that line.
public enum DocumentedACL {
    /// The `user jobq-<ns> …` template line.
    public static func template() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/security.md"), encoding: .utf8)
        guard let open = text.range(of: "```acl\n"), let close = text.range(of: "\n```", range: open.upperBound..<text.endIndex) else {
            throw FixtureError("docs/security.md has no ```acl block")
        }
        let lines = text[open.upperBound..<close.lowerBound].split(separator: "\n")
        guard lines.count == 1, let line = lines.first, line.hasPrefix("user jobq-<ns> ") else {
            throw FixtureError("the ```acl block of docs/security.md should hold exactly one `user jobq-<ns> …` line")
        }
        return String(line)
    }

    /// The line for user `jobq-<namespace>` with `password`.
    public static func user(namespace: String, password: String) throws -> String {
        try template().replacingOccurrences(of: "<ns>", with: namespace).replacingOccurrences(of: "<password>", with: password)
    }

    /// A server configuration: the default user off, one documented user per namespace
    /// (password `secret-<ns>`), and `admin` (password `secret-admin`) with every right.
    public static func serverConfig(namespaces: [String]) throws -> [String] {
        ["user default off"] + (try namespaces.map { try user(namespace: $0, password: "secret-" + $0) })
            + ["user admin on >secret-admin ~* &* +@all"]
    }
}
