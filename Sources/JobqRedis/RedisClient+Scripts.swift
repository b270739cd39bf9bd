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
