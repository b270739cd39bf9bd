import JobqRedis

/// The Lua scripts, one per state transition, as embedded in the binary.
///
/// Each script is loaded as: the state table rendered from ``TaskTransitions`` + `prelude.lua`
/// (shared keys, helpers and return codes) + the script's own file. The header of each `.lua`
/// file documents its ARGV and return values; ``ScriptCode`` names the codes.
public enum Scripts {
    static let prelude: String =
        "-- generated from TaskTransitions.table\n" + TaskTransitions.luaSource
        + String(decoding: PackageResources.prelude_lua, as: UTF8.self) + "\n"

    private static func script(_ name: String, _ body: [UInt8]) -> RedisScript {
        RedisScript(name: name, source: prelude + "-- " + name + ".lua\n" + String(decoding: body, as: UTF8.self))
    }

    public static let submit = script("submit", PackageResources.submit_lua)
    public static let claim = script("claim", PackageResources.claim_lua)
    public static let heartbeat = script("heartbeat", PackageResources.heartbeat_lua)
    public static let complete = script("complete", PackageResources.complete_lua)
    public static let fail = script("fail", PackageResources.fail_lua)
    public static let cancel = script("cancel", PackageResources.cancel_lua)
    public static let retry = script("retry", PackageResources.retry_lua)
    public static let reap = script("reap", PackageResources.reap_lua)
    public static let promote = script("promote", PackageResources.promote_lua)
    public static let progress = script("progress", PackageResources.progress_lua)
    /// Not a transition of its own: checks and repairs inconsistent records and indexes
    /// (`jobq doctor`), through the same helpers the transitions use.
    public static let doctor = script("doctor", PackageResources.doctor_lua)

    public static let all: [RedisScript] = [submit, claim, heartbeat, complete, fail, cancel, retry, reap, promote, progress, doctor]
}
