import Foundation

/// Who may use the dashboard: a shared token or a user name and password, checked on every
/// request (HTTP Basic, so the browser's own prompt works without any page of ours; a token is
/// given as the password with any user name, or as `Authorization: Bearer TOKEN`).
///
/// Secrets come from a file or the environment, never the command line (other users can read it).
public struct DashboardAuth: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case token(String)
        case basic(user: String, password: String)
    }

    let kind: Kind

    /// Any client that presents `token` (as a Bearer token, or as the Basic password).
    public static func token(_ token: String) -> DashboardAuth { DashboardAuth(kind: .token(token)) }

    /// Only `user` with `password` (HTTP Basic).
    public static func basic(user: String, password: String) -> DashboardAuth { DashboardAuth(kind: .basic(user: user, password: password)) }

    /// The first line of an auth file or variable: `user:password` for basic auth, else a token.
    /// `nil` for an empty secret.
    public init?(line: String) {
        let secret = String(line.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else { return nil }
        if let colon = secret.firstIndex(of: ":") {
            let user = String(secret[..<colon])
            let password = String(secret[secret.index(after: colon)...])
            guard !user.isEmpty, !password.isEmpty else { return nil }
            kind = .basic(user: user, password: password)
        } else {
            kind = .token(secret)
        }
    }

    init(kind: Kind) {
        self.kind = kind
    }

    /// Who the `Authorization` header proves the client to be (the Basic user name, or
    /// "token"), or `nil` when it proves nothing.
    func actor(authorization: String?) -> String? {
        guard let authorization else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let scheme = parts[0].lowercased()
        let value = String(parts[1]).trimmingCharacters(in: .whitespaces)
        switch (scheme, kind) {
        case ("bearer", .token(let token)):
            return Self.same(value, token) ? "token" : nil
        case ("basic", _):
            guard let data = Data(base64Encoded: value), let pair = String(data: data, encoding: .utf8),
                  let colon = pair.firstIndex(of: ":") else { return nil }
            let user = String(pair[..<colon])
            let password = String(pair[pair.index(after: colon)...])
            switch kind {
            case .token(let token): return Self.same(password, token) ? (user.isEmpty ? "token" : user) : nil
            case .basic(let expectedUser, let expectedPassword):
                // both compared, always: the time taken does not tell which one was wrong
                let userMatches = Self.same(user, expectedUser)
                let passwordMatches = Self.same(password, expectedPassword)
                return userMatches && passwordMatches ? user : nil
            }
        default:
            return nil
        }
    }

    /// Compares secrets in time that depends on their lengths only, not on where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
