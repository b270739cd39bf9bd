extension RedisConfiguration {
    /// Parses a redis URL.
    ///
    /// Accepted forms:
    /// - `redis://[user[:password]@]host[:port][/db]` (port defaults to 6379, IPv6 hosts in brackets)
    /// - `unix://[user[:password]@]/path/to/redis.sock[?db=N][&password=…][&user=…]`
    ///
    /// A user without a password (`redis://jobq-a@host`) is an ACL user whose password comes from
    /// elsewhere (a password file, the environment): set ``password`` before connecting.
    ///
    /// User, password and socket path are percent-decoded. Query parameters `db`, `password`,
    /// `user` (or `username`) and `spin_us` (``idleSpin`` and ``replySpin`` in microseconds, 0 to
    /// 10,000; 0 never spins: for a host with no spare core) are accepted on both forms.
    ///
    /// - Throws: `RedisError(.invalidURL)` saying what is wrong and what a valid URL looks like.
    public init(url: String) throws {
        func invalid(_ why: String) -> RedisError {
            RedisError(
                code: .invalidURL,
                message: "invalid redis URL \"\(RedisConfiguration.redacted(url))\": \(why) — expected redis://[user:password@]host[:port][/db] or unix:///path/to/redis.sock[?db=N]"
            )
        }

        guard let schemeEnd = url.firstRange(of: "://") else { throw invalid("missing scheme") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(url[schemeEnd.upperBound...])

        // Query string.
        var query: [(String, String)] = []
        if let q = rest.firstIndex(of: "?") {
            let queryText = rest[rest.index(after: q)...]
            rest = rest[..<q]
            for pair in queryText.split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, let key = RedisConfiguration.percentDecode(parts[0]),
                    let value = RedisConfiguration.percentDecode(parts[1])
                else { throw invalid("malformed query parameter \"\(RedisConfiguration.redacted(String(pair)))\"") }
                query.append((key, value))
            }
        }
        if rest.contains("#") { throw invalid("fragments (#) are not allowed") }

        // User info: everything before the last "@" (a password may contain a raw "@").
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = userInfo[..<colon]
                let pass = userInfo[userInfo.index(after: colon)...]
                guard let u = RedisConfiguration.percentDecode(user), let p = RedisConfiguration.percentDecode(pass) else {
                    throw invalid("bad percent-encoding in user or password")
                }
                username = u.isEmpty ? nil : u
                password = p
            } else {
                guard let u = RedisConfiguration.percentDecode(userInfo) else { throw invalid("bad percent-encoding in user") }
                username = u.isEmpty ? nil : u
            }
        }

        var database = 0
        let endpoint: Endpoint
        switch scheme {
        case "redis":
            // host[:port][/db]
            var hostPort = rest
            if let slash = rest.firstIndex(of: "/") {
                hostPort = rest[..<slash]
                let dbText = rest[rest.index(after: slash)...]
                if !dbText.isEmpty {
                    guard let db = Int(dbText), db >= 0 else { throw invalid("database \"\(dbText)\" is not a non-negative integer") }
                    database = db
                }
            }
            var host: Substring
            var portText: Substring?
            if hostPort.hasPrefix("[") {
                guard let close = hostPort.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
                host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
                let after = hostPort[hostPort.index(after: close)...]
                if !after.isEmpty {
                    guard after.hasPrefix(":") else { throw invalid("unexpected text after IPv6 address") }
                    portText = after.dropFirst()
                }
            } else if let colon = hostPort.firstIndex(of: ":") {
                host = hostPort[..<colon]
                portText = hostPort[hostPort.index(after: colon)...]
            } else {
                host = hostPort
            }
            guard !host.isEmpty else { throw invalid("missing host") }
            var port = 6379
            if let portText {
                guard let p = Int(portText), (1...65535).contains(p) else {
                    throw invalid("port \"\(portText)\" is not a number from 1 to 65535")
                }
                port = p
            }
            endpoint = .tcp(host: String(host), port: port)
        case "unix":
            guard rest.hasPrefix("/") else { throw invalid("a unix socket path must be absolute (unix:///path/to/redis.sock)") }
            guard let path = RedisConfiguration.percentDecode(rest), path.count > 1 else {
                throw invalid("bad socket path")
            }
            endpoint = .unix(path: path)
        case "rediss":
            throw invalid("TLS (rediss://) is not supported by this client")
        default:
            throw invalid("unknown scheme \"\(scheme)\"")
        }

        var spin: Duration?
        for (key, value) in query {
            switch key {
            case "db":
                guard let db = Int(value), db >= 0 else { throw invalid("db \"\(value)\" is not a non-negative integer") }
                database = db
            case "password":
                password = value
            case "user", "username":
                username = value.isEmpty ? nil : value
            case "spin_us":
                guard let micros = Int(value), (0...10_000).contains(micros) else {
                    throw invalid("spin_us \"\(value)\" is not a number of microseconds from 0 to 10000")
                }
                spin = .microseconds(micros)
            default:
                throw invalid("unknown query parameter \"\(key)\" (known: db, password, user, spin_us)")
            }
        }
        self.init(endpoint: endpoint, username: username, password: password, database: database)
        if let spin {
            idleSpin = spin
            replySpin = spin
        }
    }

    /// `s` with `%XX` escapes decoded; nil if an escape or the resulting UTF-8 is malformed.
    static func percentDecode(_ s: Substring) -> String? {
        guard s.contains("%") else { return String(s) }
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%") {
                guard bytes.count >= 2, let hi = hexValue(bytes.removeFirst()), let lo = hexValue(bytes.removeFirst()) else {
                    return nil
                }
                out.append(hi << 4 | lo)
            } else {
                out.append(b)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The URL with any password replaced by `***`, safe to print.
    static func redacted(_ url: String) -> String {
        var result = url
        if let schemeEnd = url.firstRange(of: "://"), let at = url.lastIndex(of: "@"), at > schemeEnd.upperBound {
            let userInfo = url[schemeEnd.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                result = String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
            }
        }
        if let range = result.firstRange(of: "password=") {
            let tail = result[range.upperBound...]
            let end = tail.firstIndex(of: "&") ?? result.endIndex
            result.replaceSubrange(range.upperBound..<end, with: "***")
        }
        return result
    }
}
