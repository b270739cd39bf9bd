import JobqRedis

/// Is this Redis safe for a task queue? Eviction and persistence, read from the server.
extension Inspector {
    /// Reads the eviction policy (`INFO memory`), AOF (`INFO persistence`) and RDB save rules
    /// (`CONFIG GET save`, when the user may; least-privilege users may not, see
    /// docs/security.md) and says what is unsafe.
    ///
    /// Workers call it at start: log every warning; with `--strict`, refuse to start
    /// (``ServerCheck/requireSafe()``).
    /// - Throws: `redis_unavailable` when Redis cannot be reached; a refused INFO or CONFIG is
    ///   reported as unknown, not thrown.
    package func checkServer() async throws(JobqError) -> ServerCheck {
        let memory = try await info("memory")
        let persistence = try await info("persistence")
        var check = ServerCheck(
            evictionPolicy: memory?["maxmemory_policy"],
            appendOnly: persistence?["aof_enabled"].map { $0 == "1" },
            saveRules: nil
        )
        do {
            let reply = try await runner.redis.send(RedisCommand("CONFIG", ["GET", "save"]))
            if let items = reply.array, items.count >= 2 { check.saveRules = items[1].string }
        } catch let error as RedisError where error.code == .server {
            check.saveRules = nil  // NOPERM for a least-privilege user: unknown
        } catch {
            throw JobqError(translating: error, doing: "check server", isWrite: false)
        }
        check.otherScriptLibraries = try await otherScriptLibraries()
        return check
    }

    /// The jobq script libraries on the server other than ``Scripts/library`` (`FUNCTION LIST
    /// LIBRARYNAME jobq_*`); `nil` when the server refused it (an ACL without `function|list`).
    package func otherScriptLibraries() async throws(JobqError) -> [String]? {
        let reply: RedisValue
        do {
            reply = try await runner.redis.send(RedisCommand("FUNCTION", ["LIST", "LIBRARYNAME", "jobq_*"]))
        } catch let error as RedisError where error.code == .server {
            return nil
        } catch {
            throw JobqError(translating: error, doing: "check server", isWrite: false)
        }
        // RESP2: one flat [field, value, …] array per library
        var names: [String] = []
        for library in reply.array ?? [] {
            let fields = library.array ?? []
            for index in stride(from: 0, to: fields.count - 1, by: 2) where fields[index].string == "library_name" {
                if let name = fields[index + 1].string, Scripts.isJobqLibrary(name), name != Scripts.library.name { names.append(name) }
            }
        }
        return names.sorted()
    }

    /// `INFO section` as a dictionary; `nil` when the server refused it (NOPERM).
    private func info(_ section: String) async throws(JobqError) -> [String: String]? {
        let reply: RedisValue
        do {
            reply = try await runner.redis.send(RedisCommand("INFO", [RedisArgument(section)]))
        } catch let error as RedisError where error.code == .server {
            return nil
        } catch {
            throw JobqError(translating: error, doing: "check server", isWrite: false)
        }
        var fields: [String: String] = [:]
        for line in (reply.string ?? "").split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        return fields
    }
}
