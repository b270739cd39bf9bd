extension RedisClient {
    /// Runs `script` with EVALSHA; on NOSCRIPT (script cache flushed, server restarted) loads it
    /// and runs it again, in one round trip.
    ///
    /// - Throws: `RedisError(.server)` for an error reply from the script (or from SCRIPT LOAD,
    ///   e.g. a Lua syntax error).
    public func evalScript(_ script: RedisScript, keys: [RedisArgument], args: [RedisArgument]) async throws -> RedisValue {
        let command = RedisCommand.evalsha(script, keys: keys, args: args)
        var reply = try await submit(command.encoded)
        if case .error(let error) = reply, error.prefix == "NOSCRIPT" {
            let replies = try await pipeline([.scriptLoad(script), command])
            try replies[0].throwIfError()
            reply = replies[1]
        }
        if case .error(let error) = reply { throw RedisError.server(error) }
        return reply
    }

    /// Like ``pipeline(_:)``, but EVALSHA commands that hit NOSCRIPT are loaded and run again.
    ///
    /// Ordering consequence: a re-run script executes after *every* command of the first
    /// pipeline, not in its original position, so a command that followed it in `calls` may
    /// have run before it. Keep scripts that must see each other's effects in one script, or
    /// load scripts ahead of time with ``loadScripts(_:)``. Error replies come back in place as
    /// `.error` elements (a failed SCRIPT LOAD in place of the script's reply).
    public func pipelineScripts(_ calls: [RedisCommand]) async throws -> [RedisValue] {
        var results = try await pipeline(calls)
        var missing: [Int] = []
        var scripts: [RedisScript] = []
        var seen: Set<String> = []
        for (index, reply) in results.enumerated() {
            guard case .error(let error) = reply, error.prefix == "NOSCRIPT", let script = calls[index].script else { continue }
            missing.append(index)
            if seen.insert(script.sha1).inserted { scripts.append(script) }
        }
        if missing.isEmpty { return results }

        let retry = try await pipeline(scripts.map(RedisCommand.scriptLoad) + missing.map { calls[$0] })
        var loadErrors: [String: RedisValue] = [:]
        for (script, reply) in zip(scripts, retry) {
            if case .error = reply { loadErrors[script.sha1] = reply }
        }
        for (offset, index) in missing.enumerated() {
            let sha = calls[index].script?.sha1 ?? ""
            results[index] = loadErrors[sha] ?? retry[scripts.count + offset]
        }
        return results
    }

    /// Loads `scripts` (SCRIPT LOAD) in one round trip, e.g. at start-up.
    ///
    /// - Throws: `RedisError(.server)` if one does not compile; `.unexpectedReply` if the SHA-1
    ///   redis computed differs from ours.
    public func loadScripts(_ scripts: [RedisScript]) async throws {
        let replies = try await pipeline(scripts.map(RedisCommand.scriptLoad))
        for (script, reply) in zip(scripts, replies) {
            let sha = try reply.decodeString()
            guard sha == script.sha1 else {
                throw RedisError(
                    code: .unexpectedReply,
                    message: "SCRIPT LOAD of \(script.name) returned \(sha), expected \(script.sha1)"
                )
            }
        }
    }
}

extension RedisClient {
    /// `FCALL function numkeys keys… args…`: one round trip. When the server does not know the
    /// function (a fresh or flushed server, or `FUNCTION FLUSH`), `library` is loaded
    /// (`FUNCTION LOAD REPLACE`, so that two clients loading it at once both succeed) and the call
    /// sent again, as EVALSHA recovers from NOSCRIPT.
    ///
    /// `script` is the same code as an EVALSHA script: used instead when this user may not run
    /// `FCALL` or `FUNCTION LOAD` (an ACL that grants `evalsha` and `script|load`, as a
    /// multi-tenant one should: a library is replaced by name, a script is addressed by its
    /// content), for this call and, once the server refused the command, every later one.
    public func callFunction(
        _ function: RedisArgument, in library: RedisFunctionLibrary, orScript script: RedisScript,
        keys: [RedisArgument], args: [RedisArgument]
    ) async throws -> RedisValue {
        if functionsRefused.load(ordering: .relaxed) { return try await evalScript(script, keys: keys, args: args) }
        let command = RedisCommand.fcall(function, keys: keys, args: args)
        var reply = try await submit(command.encoded)
        if case .error(let error) = reply, Self.isUnknownFunction(error) {
            let replies = try await pipeline([.functionLoad(library), command])
            if case .error(let loadError) = replies[0] {
                guard loadError.prefix == "NOPERM" else { throw RedisError.server(loadError) }
                reply = replies[0]
            } else {
                reply = replies[1]
            }
        }
        if case .error(let error) = reply, error.prefix == "NOPERM" {
            if Self.refusesCommand(error) { functionsRefused.store(true, ordering: .relaxed) }
            return try await evalScript(script, keys: keys, args: args)
        }
        if case .error(let error) = reply { throw RedisError.server(error) }
        return reply
    }

    /// Loads `library` (`FUNCTION LOAD REPLACE`), e.g. at start-up.
    public func loadLibrary(_ library: RedisFunctionLibrary) async throws {
        let reply = try await send(.functionLoad(library))
        if case .error(let error) = reply { throw RedisError.server(error) }
    }

    /// Redis answers an unknown function with a plain `ERR Function not found` (no code of its
    /// own, unlike NOSCRIPT): one of the two replies matched by their text.
    static func isUnknownFunction(_ error: RedisServerError) -> Bool {
        error.prefix == "ERR" && error.message.hasSuffix("Function not found")
    }

    /// A NOPERM for the command itself ("no permissions to run the 'fcall' command"), not for a
    /// key the call names (then the script form is refused the same, and the error stands).
    static func refusesCommand(_ error: RedisServerError) -> Bool {
        error.message.contains("permissions to run")
    }
}
