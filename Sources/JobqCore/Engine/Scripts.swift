import JobqRedis

/// The Lua scripts, one per state transition, as embedded in the binary.
///
/// Each script is: the generated block (the state table from ``TaskTransitions``, the key table
/// `K` from ``Keyspace/layout``, return codes, per-item codes and argument words from
/// ``ScriptConstants``) + `prelude.lua` (shared helpers) + the script's own file. The header of
/// each `.lua` file documents its ARGV and replies; its `Calls/*Call.swift` type encodes the one
/// and decodes the other.
///
/// They run as one Redis Functions library (``library``: `FUNCTION LOAD` once, `FCALL` per call),
/// not as EVALSHA scripts: the generated block and the prelude (hundreds of functions and tables)
/// are then built once per load instead of at the start of every call, which was about half of a
/// one-task submit's Redis CPU (docs/performance.md). Each call starts with the prelude's `BEGIN`,
/// which sets `KEYS`, `ARGV`, `P`, `NOW` and resets the per-call state. The library's name carries
/// a digest of its source, so workers of two jobq versions each call their own.
package enum Scripts {
    /// The generated block's definitions; they read the prefix `P` only when called.
    private static let definitions: String = TaskTransitions.luaSource + Keyspace.luaSource + ScriptConstants.luaSource

    /// The generated block as a script of its own (EVAL, `KEYS[1]` the prefix): what tests ask for
    /// key names through, and what each ``RedisScript`` below starts with.
    static let generated: String =
        "-- generated from Swift: TaskTransitions.table, Keyspace.layout, ScriptConstants\n"
        + "local P = KEYS[1]\n" + definitions + "K.bind()\n"

    private static let preludeSource = String(decoding: PackageResources.prelude_lua, as: UTF8.self) + "\n"

    /// The script form's prelude: `KEYS` and `ARGV` as locals (BEGIN sets them, as in the library).
    static let prelude: String = generated + "local KEYS, ARGV = KEYS, ARGV\n" + preludeSource

    private static let bodies: [(name: String, body: String)] = [
        ("submit", PackageResources.submit_lua), ("claim", PackageResources.claim_lua), ("heartbeat", PackageResources.heartbeat_lua),
        ("complete", PackageResources.complete_lua), ("fail", PackageResources.fail_lua), ("cancel", PackageResources.cancel_lua),
        ("retry", PackageResources.retry_lua), ("reap", PackageResources.reap_lua), ("promote", PackageResources.promote_lua),
        ("progress", PackageResources.progress_lua), ("doctor", PackageResources.doctor_lua), ("queue", PackageResources.queue_lua),
        ("settle", PackageResources.settle_lua), ("runs", PackageResources.runs_lua), ("rerun", PackageResources.rerun_lua),
        ("schedule", PackageResources.schedule_lua), ("signal", PackageResources.signal_lua),
    ].map { ($0.0, "-- " + $0.0 + ".lua\n" + String(decoding: $0.1, as: UTF8.self)) }

    /// The library every script call runs in: the generated block and the prelude once, then each
    /// script's file as the body of a registered function (`jobq_<digest>_<script>`).
    package static let library: RedisFunctionLibrary = {
        var source = "-- generated from Swift: TaskTransitions.table, Keyspace.layout, ScriptConstants\n"
            + "local KEYS, ARGV, P -- set by BEGIN (prelude.lua) at the start of every call\n"
            + definitions + preludeSource
        for (name, body) in bodies {
            source += "redis.register_function('@_\(name)', function(keys, args) BEGIN(keys, args)\n" + body + "\nend)\n"
        }
        let name = "jobq_" + SHA1.hexDigest(Array(source.utf8)).prefix(16)
        let registered = source.replacingOccurrences(of: "register_function('@_", with: "register_function('\(name)_")
        return RedisFunctionLibrary(name: name, source: "#!lua name=\(name)\n" + registered)
    }()

    /// Whether `name` has the shape of a jobq library's name (`jobq_` and 16 hex digits), so that
    /// cleaning up old versions never touches another program's library.
    package static func isJobqLibrary(_ name: String) -> Bool {
        let digest = name.utf8.dropFirst(5)
        return name.hasPrefix("jobq_") && digest.count == 16 && digest.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The name of the function `script` runs as: `<library>_<script>`.
    package static func functionName(_ script: RedisScript) -> String {
        library.name + "_" + script.name
    }

    /// ``functionName(_:)`` as the argument of `FCALL`, built once per script (the hot path).
    package static func function(_ script: RedisScript) -> RedisArgument {
        functions[script.name] ?? RedisArgument(functionName(script))
    }

    private static let functions: [String: RedisArgument] = Dictionary(uniqueKeysWithValues: bodies.map {
        ($0.name, RedisArgument(library.name + "_" + $0.name))
    })

    /// The same code as an EVALSHA script: the generated block, the prelude, then the script's
    /// own file as a function that starts with `BEGIN`, as in ``library`` (its locals then do not
    /// count against the chunk's 200). Run when the server refuses Functions to this user
    /// (RedisClient.callFunction); it also names each call.
    private static func script(_ name: String) -> RedisScript {
        RedisScript(name: name, source: prelude + "return (function() BEGIN(KEYS, ARGV)\n" + (bodies.first { $0.name == name }?.body ?? "") + "\nend)()\n")
    }

    package static let submit = script("submit")
    package static let claim = script("claim")
    package static let heartbeat = script("heartbeat")
    package static let complete = script("complete")
    package static let fail = script("fail")
    package static let cancel = script("cancel")
    package static let retry = script("retry")
    package static let reap = script("reap")
    package static let promote = script("promote")
    package static let progress = script("progress")
    /// Not a transition of its own: checks and repairs inconsistent records and indexes
    /// (`jobq doctor`), through the same helpers the transitions use.
    package static let doctor = script("doctor")
    /// Not a task transition: pauses or resumes a queue (refusing one no task ever used).
    package static let queue = script("queue")
    /// Not a transition of its own: continues the cascades earlier calls left on the settle list.
    package static let settle = script("settle")

    /// Read-only: one page of runs (`jobq runs`), filtered by definition and state, bounded.
    package static let runs = script("runs")

    /// `rerun --outdated`: re-opens a run's outdated tasks and their dependents, in place.
    package static let rerun = script("rerun")

    /// Not a task transition: the schedule records, and the claim and advance of their ticks.
    package static let schedule = script("schedule")

    /// A signal or an answer for a task: kept in its record, resuming it when it waits for it.
    package static let signal = script("signal")

    package static let all: [RedisScript] = [submit, claim, heartbeat, complete, fail, cancel, retry, reap, promote, progress, doctor, queue, settle, runs, rerun, schedule, signal]
}
