import JobqRedis

/// One call of one Lua script: its arguments, typed, and a decoder for its reply.
///
/// Each script has exactly one conforming type (`SubmitCall`, `ClaimCall`, …, in `Calls/`), so
/// the shape of what goes in and what comes out is written down once, next to the script's
/// header, and a reply of the wrong shape is an error rather than a default.
package protocol ScriptCall: Sendable {
    associatedtype Reply: Sendable
    /// The script this call runs.
    static var script: RedisScript { get }
    /// `ARGV[2...]` (the runner passes the namespace prefix as `KEYS[1]` and "now" as `ARGV[1]`).
    var arguments: [RedisArgument] { get }
    /// Reads the whole reply; throws on a refusal code (as the matching ``JobqError``) or on a
    /// reply of the wrong shape (`internal_error`).
    func decode(_ reply: inout ScriptReply) throws(JobqError) -> Reply
}
