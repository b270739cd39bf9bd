/// A RESP2 reply, converted from hiredis's reply tree on the lane thread.
public enum RedisValue: Sendable, Hashable {
    /// A simple string (`+OK`).
    case status(String)
    /// An integer reply (`:1`).
    case integer(Int)
    /// A bulk string: raw bytes, binary safe.
    case bulk([UInt8])
    /// A nil bulk string or nil array.
    case null
    /// A multi-bulk reply, possibly nested.
    case array([RedisValue])
    /// An error reply. `send` throws these; `pipeline` returns them in place.
    case error(RedisServerError)
}

extension RedisValue {
    /// The integer of an `.integer` reply.
    public var int: Int? {
        if case .integer(let i) = self { return i }
        return nil
    }

    /// A bulk or status reply decoded as UTF-8 (invalid sequences repaired).
    public var string: String? {
        switch self {
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .status(let s): return s
        default: return nil
        }
    }

    /// The bytes of a bulk (or status) reply.
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): return bytes
        case .status(let s): return Array(s.utf8)
        default: return nil
        }
    }

    /// The elements of an array reply.
    public var array: [RedisValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether this is a nil reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// A short rendering for error messages (long bulks are cut).
    var shortDescription: String {
        switch self {
        case .status(let s): return "status \"\(s)\""
        case .integer(let i): return "integer \(i)"
        case .bulk(let b):
            let text = String(decoding: b.prefix(40), as: UTF8.self)
            return "bulk \"\(text)\(b.count > 40 ? "…" : "")\" (\(b.count) bytes)"
        case .null: return "null"
        case .array(let a): return "array of \(a.count)"
        case .error(let e): return "error \"\(e.message)\""
        }
    }
}

// MARK: - Throwing decoders

extension RedisValue {
    /// Throws the server error of an `.error` reply; does nothing otherwise.
    ///
    /// - Throws: `RedisError(.server)` carrying the reply.
    public func throwIfError() throws {
        if case .error(let e) = self { throw RedisError.server(e) }
    }

    /// An integer reply, or a bulk/status reply holding a decimal integer (as `HGET` returns).
    ///
    /// - Throws: `RedisError(.unexpectedReply)`, or `.server` for an error reply.
    public func decodeInt() throws -> Int {
        try throwIfError()
        switch self {
        case .integer(let i): return i
        case .bulk, .status:
            if let s = string, let i = Int(s) { return i }
        default: break
        }
        throw RedisError.unexpected("an integer", got: self)
    }

    /// Like ``decodeInt()`` but a nil reply is `nil`.
    public func decodeOptionalInt() throws -> Int? {
        if isNull { return nil }
        return try decodeInt()
    }

    /// A bulk reply holding a decimal number (as `ZSCORE` returns), or an integer reply.
    public func decodeDouble() throws -> Double {
        try throwIfError()
        switch self {
        case .integer(let i): return Double(i)
        case .bulk, .status:
            if let s = string, let d = Double(s) { return d }
            if let s = string {
                switch s {
                case "inf", "+inf": return .infinity
                case "-inf": return -.infinity
                default: break
                }
            }
        default: break
        }
        throw RedisError.unexpected("a number", got: self)
    }

    /// A bulk or status reply as a UTF-8 string.
    public func decodeString() throws -> String {
        try throwIfError()
        if let s = string { return s }
        throw RedisError.unexpected("a string", got: self)
    }

    /// Like ``decodeString()`` but a nil reply is `nil`.
    public func decodeOptionalString() throws -> String? {
        if isNull { return nil }
        return try decodeString()
    }

    /// A bulk reply's bytes.
    public func decodeBytes() throws -> [UInt8] {
        try throwIfError()
        if case .bulk(let b) = self { return b }
        throw RedisError.unexpected("a bulk string", got: self)
    }

    /// Like ``decodeBytes()`` but a nil reply is `nil`.
    public func decodeOptionalBytes() throws -> [UInt8]? {
        if isNull { return nil }
        return try decodeBytes()
    }

    /// An array reply's elements.
    public func decodeArray() throws -> [RedisValue] {
        try throwIfError()
        if case .array(let a) = self { return a }
        throw RedisError.unexpected("an array", got: self)
    }

    /// Like ``decodeArray()`` but a nil reply is `nil`.
    public func decodeOptionalArray() throws -> [RedisValue]? {
        if isNull { return nil }
        return try decodeArray()
    }

    /// A `+OK` status reply.
    public func decodeOK() throws {
        try throwIfError()
        if case .status("OK") = self { return }
        throw RedisError.unexpected("OK", got: self)
    }
}
