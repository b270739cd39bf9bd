import Foundation
import JobqCore
import JobqRedis
import JobqTestSupport
import Testing

@Suite("jobq doctor and --strict", .enabled(if: redisAvailable))
struct DoctorCommandTests {
    @Test func reportsThenRepairsAStrandedTask() async throws {
        let cli = try await CLIHarness.make()
        let clean = try await cli.run(["doctor"])
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.stdout.contains("consistent"))

        let spec = TaskSpec(id: "lost", handler: "noop")
        _ = try await cli.coordinator.tasks.submit([spec])
        _ = try await cli.coordinator.redis.send("LREM", RedisArgument(cli.keys.ready("default")), 0, "lost")

        let dry = try await cli.run(["doctor", "--json"])
        #expect(dry.status == 1, "\(dry.stderr)")
        let report = try dry.json()
        let problems = try #require(report["problems"] as? [[String: Any]])
        #expect(problems.count == 1)
        #expect(problems.first?["kind"] as? String == "stranded")
        #expect(problems.first?["task"] as? String == "lost")
        #expect(problems.first?["fix"] as? String == "dispatch to q:default")
        #expect(report["repair"] as? Bool == false)
        #expect(try await cli.coordinator.tasks.taskIDs(in: .pending).isEmpty)  // the dry run changed nothing

        let repaired = try await cli.run(["doctor", "--repair"])
        #expect(repaired.status == 0, "\(repaired.stdout) \(repaired.stderr)")
        #expect(repaired.stdout.contains("repaired: dispatch to q:default"))
        #expect(try await cli.coordinator.tasks.taskIDs(in: .pending) == ["lost"])
        let again = try await cli.run(["doctor"])
        #expect(again.status == 0)
        let claimed = try await cli.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
        #expect(claimed.map(\.id) == ["lost"])
    }

    /// Script libraries that earlier jobq versions left on the server: a note (harmless, exit 0);
    /// `--repair` deletes exactly those, never this version's nor another program's. On a private
    /// server: libraries are server-wide.
    @Test func notesThenDeletesOtherVersionsScriptLibraries() async throws {
        let server = try await RedisServerFixture.start()
        do {
            let redis = server.makeClient()
            func load(_ name: String) async throws {
                _ = try await redis.send("FUNCTION", "LOAD", RedisArgument("#!lua name=\(name)\nredis.register_function('\(name)_f', function() return 1 end)"))
            }
            let old = "jobq_0123456789abcdef"
            try await load(old)
            try await load("jobq_custom")  // not jobq's shape: someone else's
            try await load("billing")
            func libraries() async throws -> Set<String> {
                Set(try await redis.send("FUNCTION", "LIST").decodeArray().compactMap { entry -> String? in
                    let fields = entry.array ?? []
                    guard let at = fields.firstIndex(where: { $0.string == "library_name" }), at + 1 < fields.count else { return nil }
                    return fields[at + 1].string
                })
            }
            let connect = ["--redis", server.url, "--namespace", "doc"]
            // a call of this version loads its own library first
            #expect(try await CLIHarness.execute(["submit", "jobq.noop"] + connect).status == 0)
            #expect(try await libraries() == [Scripts.library.name, old, "jobq_custom", "billing"])

            let dry = try await CLIHarness.execute(["doctor", "--json"] + connect)
            #expect(dry.status == 0, "\(dry.stderr)")
            let report = try #require(try dry.json()["server"] as? [String: Any])
            #expect(report["other_script_libraries"] as? [String] == [old])
            #expect((report["notes"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "other_script_libraries" }, "\(report)")
            #expect(try await libraries().contains(old), "the dry run deleted nothing")

            let text = try await CLIHarness.execute(["doctor"] + connect)
            #expect(text.stdout.contains("note: 1 script library of other jobq versions is loaded (\(old))"), "\(text.stdout)")

            let repaired = try await CLIHarness.execute(["doctor", "--repair", "--json"] + connect)
            #expect(repaired.status == 0, "\(repaired.stderr)")
            let after = try #require(try repaired.json()["server"] as? [String: Any])
            #expect(after["deleted_script_libraries"] as? [String] == [old])
            #expect(after["other_script_libraries"] as? [String] == [])
            #expect(try await libraries() == [Scripts.library.name, "jobq_custom", "billing"])
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// A concurrency key's count left one too high by a RUNNING record deleted by hand: in the
    /// JSON with its stored and actual running (exit 1), repaired by --repair (exit 0), which
    /// wakes the parked task the freed slot is for.
    @Test func reportsThenRepairsALimitCountDrift() async throws {
        let cli = try await CLIHarness.make()
        var specs: [TaskSpec] = []
        for id in ["a", "b", "c"] {
            var spec = TaskSpec(id: id, handler: "noop")
            spec.concurrency = ConcurrencyLimit(key: "smtp", limit: 2)
            specs.append(spec)
        }
        _ = try await cli.coordinator.tasks.submit(specs)
        let claimed = try await cli.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
        #expect(claimed.map(\.id) == ["a", "b"])
        _ = try await cli.coordinator.redis.send("DEL", RedisArgument(cli.keys.task("a")))

        let dry = try await cli.run(["doctor", "--json"])
        #expect(dry.status == 1, "\(dry.stdout) \(dry.stderr)")
        let limits = try #require(try dry.json()["limit_counts"] as? [String: Any])
        #expect(limits["recounted"] as? Bool == true)
        #expect(limits["cap"] as? Int == LimitCountCheck.defaultCap)
        let problems = try #require(limits["problems"] as? [[String: Any]])
        #expect(problems.count == 1)
        #expect(problems.first?["kind"] as? String == "limit_count_drift")
        #expect(problems.first?["key"] as? String == "smtp")
        #expect(problems.first?["stored"] as? Int == 2)
        #expect(problems.first?["actual"] as? Int == 1)
        #expect(problems.first?["parked"] as? Int == 1)
        #expect(problems.first?["fix"] as? String == "set running 2 -> 1; wake up to 1 parked")
        #expect(problems.first?["outcome"] is NSNull)
        let text = try await cli.run(["doctor"])
        #expect(text.stdout.contains("limit_count_drift"), "\(text.stdout)")
        #expect(text.stdout.contains("key smtp"), "\(text.stdout)")
        #expect(text.stdout.contains("running 2 stored, 1 actual, 1 parked"), "\(text.stdout)")

        let repaired = try await cli.run(["doctor", "--repair"])
        #expect(repaired.status == 0, "\(repaired.stdout) \(repaired.stderr)")
        #expect(repaired.stdout.contains("repaired: set running 2 -> 1; wake up to 1 parked"), "\(repaired.stdout)")
        let next = try await cli.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
        #expect(next.map(\.id) == ["c"])
        let clean = try await cli.run(["doctor", "--json"])
        #expect(clean.status == 0)
        #expect(try clean.json()["consistent"] as? Bool == true)
    }

    /// A user that may `FUNCTION LIST` but not `FUNCTION DELETE`, while another version's
    /// library is loaded: `--repair` does the rest of its work, reports it, and notes (exit 0:
    /// the libraries are harmless) that the libraries stay, naming the permission it lacks.
    @Test func aUserRefusedFunctionDeleteGetsANoteAndTheRestOfTheRepair() async throws {
        try await withRedisServer(extraConfig: ["user limited on >secret-l ~* &* +@all -function|delete"]) { server in
            let admin = server.makeClient()
            let old = "jobq_fedcba9876543210"
            _ = try await admin.send("FUNCTION", "LOAD", RedisArgument("#!lua name=\(old)\nredis.register_function('\(old)_f', function() return 1 end)"))
            let url = "unix://limited@" + server.socketPath
            let environment = ["JOBQ_REDIS_PASSWORD": "secret-l"]
            let connect = ["--redis", url, "--namespace", "acl"]
            #expect(try await CLIHarness.execute(["submit", "jobq.noop", "--id", "lost"] + connect, environment: environment).status == 0)
            let keys = try Keyspace(namespace: "acl")
            _ = try await admin.send("LREM", RedisArgument(keys.ready("default")), 0, "lost")

            let repaired = try await CLIHarness.execute(["doctor", "--repair", "--json"] + connect, environment: environment)
            #expect(repaired.status == 0, "\(repaired.stdout) \(repaired.stderr)")
            let report = try repaired.json()
            let problems = try #require(report["problems"] as? [[String: Any]])
            #expect(problems.first?["kind"] as? String == "stranded")
            #expect(problems.first?["outcome"] as? String == "dispatch to q:default")
            let serverReport = try #require(report["server"] as? [String: Any])
            #expect(serverReport["deleted_script_libraries"] as? [String] == [])
            #expect(serverReport["other_script_libraries"] as? [String] == [old])
            let note = (serverReport["notes"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "script_libraries_not_deleted" }
            let message = try #require(note?["message"] as? String, "\(serverReport)")
            #expect(message.contains("FUNCTION DELETE") && message.contains("function|delete"), "\(message)")
            #expect(try await admin.send("LLEN", RedisArgument(keys.ready("default"))).decodeInt() == 1)
            let libraries = try await admin.send("FUNCTION", "LIST", "LIBRARYNAME", RedisArgument(old)).decodeArray()
            #expect(libraries.count == 1, "the library stays")

            let text = try await CLIHarness.execute(["doctor", "--repair"] + connect, environment: environment)
            #expect(text.status == 0, "\(text.stdout) \(text.stderr)")
            #expect(text.stdout.contains("note: the script libraries of other jobq versions were not deleted"), "\(text.stdout)")
            await admin.close()
        }
    }

    /// The stuck flags of `jobq workers` and the dashboard, in doctor: warnings (problems only
    /// with --strict, which this unpersisted test server fails anyway).
    @Test func listsStuckWorkers() async throws {
        let cli = try await CLIHarness.make()
        _ = try await cli.coordinator.tasks.submit([TaskSpec(id: "slowpoke", handler: "h", timeout: .milliseconds(200))])
        _ = try await cli.claim("slowpoke")
        try await cli.coordinator.leases.register(worker: WorkerInfo(id: "busy", host: "h1", pid: 1, queues: ["default"], concurrency: 1, running: ["slowpoke"], heartbeatMilliseconds: 10_000), ttl: .seconds(60))
        try await cli.coordinator.leases.register(worker: WorkerInfo(id: "quiet", host: "h2", pid: 2, queues: ["default"], concurrency: 1, running: [], heartbeatMilliseconds: 50), ttl: .seconds(60))
        try await Task.sleep(for: .milliseconds(400))
        try await cli.coordinator.leases.register(worker: WorkerInfo(id: "fine", host: "h3", pid: 3, queues: ["default"], concurrency: 1, running: [], heartbeatMilliseconds: 10_000), ttl: .seconds(60))
        let text = try await cli.run(["doctor"])
        #expect(text.stdout.contains("worker busy (h1 pid 1) is stuck — running past their timeout: slowpoke"), "\(text.stdout)")
        #expect(text.stdout.contains("worker quiet (h2 pid 2) is stuck — silent"), "\(text.stdout)")
        #expect(!text.stdout.contains("worker fine"))
        let json = try await cli.run(["doctor", "--json"])
        let stuck = try #require(try json.json()["stuck_workers"] as? [[String: Any]])
        #expect(Set(stuck.compactMap { $0["id"] as? String }) == ["busy", "quiet"])
        #expect(json.status == 0) // warnings, not inconsistencies (problems only with --strict)
    }

    @Test func strictRefusesAServerWithoutPersistence() async throws {
        // The shared test server runs with `save ""` and `appendonly no`.
        let cli = try await CLIHarness.make()
        let submit = try await cli.run(["submit", "jobq.echo", "--strict", "--json"])
        #expect(submit.status == 69, "\(submit.stdout) \(submit.stderr)")
        let error = try submit.jsonError()
        #expect(error["code"] as? String == "unsafe_redis")
        #expect((error["message"] as? String)?.contains("appendonly yes") == true)
        #expect(try await cli.keysInNamespace().isEmpty)

        let doctor = try await cli.run(["doctor", "--strict", "--json"])
        #expect(doctor.status == 1)
        let server = try #require(try doctor.json()["server"] as? [String: Any])
        #expect(server["safe"] as? Bool == false)
        #expect((server["warnings"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == ["no_persistence"])
        #expect(try await cli.run(["doctor"]).status == 0)  // without --strict: a warning only
    }

    @Test func strictAcceptsAPersistentNonEvictingServer() async throws {
        try await withRedisServer(extraConfig: ["appendonly yes", "maxmemory-policy noeviction"]) { server in
            let submit = try await CLIHarness.execute(["submit", "jobq.echo", "--strict", "--redis", server.url, "--namespace", "strict"])
            #expect(submit.status == 0, "\(submit.stderr)")
            let evicting = try await withRedisServer(extraConfig: ["appendonly yes", "maxmemory-policy allkeys-lru"]) { other in
                try await CLIHarness.execute(["submit", "jobq.echo", "--strict", "--redis", other.url, "--namespace", "strict"])
            }
            #expect(evicting.status == 69)
            #expect(evicting.stderr.contains("maxmemory-policy is allkeys-lru"))
        }
    }

    @Test func aRestrictedUserNamedInTheURLWithItsPasswordInAFile() async throws {
        try await withRedisServer(extraConfig: try DocumentedACL.serverConfig(namespaces: ["a"])) { server in
            let passwordFile = try CLIHarness.temporaryFile("password", "secret-a\n")
            let url = "unix://jobq-a@" + server.socketPath
            let submit = try await CLIHarness.execute(["submit", "jobq.echo", "--id", "t1", "--redis", url, "--namespace", "a", "--password-file", passwordFile])
            #expect(submit.status == 0, "\(submit.stderr)")
            let doctor = try await CLIHarness.execute(["doctor", "--redis", url, "--namespace", "a"], environment: ["JOBQ_REDIS_PASSWORD": "secret-a"])
            #expect(doctor.status == 0, "\(doctor.stdout) \(doctor.stderr)")
            #expect(doctor.stdout.contains("note: AOF is off"))
            let other = try await CLIHarness.execute(["status", "t1", "--redis", url, "--namespace", "b", "--password-file", passwordFile])
            #expect(other.status == 69)
            #expect(other.stderr.contains("NOPERM"))
            let noPassword = try await CLIHarness.execute(["stats", "--redis", url, "--namespace", "a"])
            #expect(noPassword.status == 69)
            #expect(noPassword.stderr.contains("has no password"))
        }
    }
}
