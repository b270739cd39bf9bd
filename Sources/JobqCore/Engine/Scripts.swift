import JobqRedis

/// The Lua scripts, one per state transition, as embedded in the binary.
///
/// Each script is loaded as: the generated block (the state table from ``TaskTransitions``,
/// the key table `K` from ``Keyspace/layout``, return codes, per-item codes and argument words
/// from ``ScriptConstants``) + `prelude.lua` (shared helpers) + the script's own file. The header
/// of each `.lua` file documents its ARGV and replies; its `Calls/*Call.swift` type encodes the
/// one and decodes the other.
package enum Scripts {
    /// What Swift renders for every script: the Lua never spells a key, code or word itself.
    static let generated: String =
        "-- generated from Swift: TaskTransitions.table, Keyspace.layout, ScriptConstants\n"
        + "local P = KEYS[1]\n" + TaskTransitions.luaSource + Keyspace.luaSource + ScriptConstants.luaSource

    static let prelude: String = generated + String(decoding: PackageResources.prelude_lua, as: UTF8.self) + "\n"

    private static func script(_ name: String, _ body: [UInt8]) -> RedisScript {
        RedisScript(name: name, source: prelude + "-- " + name + ".lua\n" + String(decoding: body, as: UTF8.self))
    }

    package static let submit = script("submit", PackageResources.submit_lua)
    package static let claim = script("claim", PackageResources.claim_lua)
    package static let heartbeat = script("heartbeat", PackageResources.heartbeat_lua)
    package static let complete = script("complete", PackageResources.complete_lua)
    package static let fail = script("fail", PackageResources.fail_lua)
    package static let cancel = script("cancel", PackageResources.cancel_lua)
    package static let retry = script("retry", PackageResources.retry_lua)
    package static let reap = script("reap", PackageResources.reap_lua)
    package static let promote = script("promote", PackageResources.promote_lua)
    package static let progress = script("progress", PackageResources.progress_lua)
    /// Not a transition of its own: checks and repairs inconsistent records and indexes
    /// (`jobq doctor`), through the same helpers the transitions use.
    package static let doctor = script("doctor", PackageResources.doctor_lua)
    /// Not a task transition: pauses or resumes a queue (refusing one no task ever used).
    package static let queue = script("queue", PackageResources.queue_lua)
    /// Not a transition of its own: continues the cascades earlier calls left on the settle list.
    package static let settle = script("settle", PackageResources.settle_lua)

    /// Read-only: one page of runs (`jobq runs`), filtered by definition and state, bounded.
    package static let runs = script("runs", PackageResources.runs_lua)

    /// `rerun --outdated`: re-opens a run's outdated tasks and their dependents, in place.
    package static let rerun = script("rerun", PackageResources.rerun_lua)

    /// Not a task transition: the schedule records, and the claim and advance of their ticks.
    package static let schedule = script("schedule", PackageResources.schedule_lua)

    /// A signal or an answer for a task: kept in its record, resuming it when it waits for it.
    package static let signal = script("signal", PackageResources.signal_lua)

    package static let all: [RedisScript] = [submit, claim, heartbeat, complete, fail, cancel, retry, reap, promote, progress, doctor, queue, settle, runs, rerun, schedule, signal]
}
