import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqCore

/// The scripts run as one Redis Functions library (Scripts.library): loaded once, its per-call
/// state reset by the prelude's BEGIN at the start of every call, and loaded again by itself when
/// the server has lost it.
@Suite("Scripts as a Functions library")
struct FunctionLibraryTests {
    /// Calls of two namespaces, alternating on one connection: each writes only its own keys, and
    /// what one call collected (events, counters, ready-list pushes) is not written again by the
    /// next. A per-call table BEGIN forgot to reset would show here.
    @Test func callsOfTwoNamespacesShareNothing() async throws {
        try await withEngine { a in
            let b = EngineFixture(coordinator: try Coordinator(redis: a.redis, namespace: a.keys.namespace + "-b", clock: .manual(a.clock)), clock: a.clock)
            for round in 0..<3 {
                _ = try await a.coordinator.tasks.submit([spec("a\(round)")])
                _ = try await b.coordinator.tasks.submit([spec("b\(round)"), spec("c\(round)")])
            }
            #expect(try await a.readyList().sorted() == ["a0", "a1", "a2"])
            #expect(try await b.readyList().sorted() == ["b0", "b1", "b2", "c0", "c1", "c2"])
            for (engine, prefix) in [(a, "a"), (b, "b")] {
                let stats = try await engine.redis.send("HGET", RedisArgument(engine.keys.stats), "submitted").decodeOptionalString()
                #expect(stats == (prefix == "a" ? "3" : "6"))
                // one event per task, written once
                let events = try await engine.coordinator.inspector.events(after: "0-0", block: nil, count: 1000).records
                #expect(events.count == (prefix == "a" ? 3 : 6))
                #expect(Set(events.map(\.task)).count == events.count)
            }
            // a claim in one namespace, then a completion in the other: each touches its own tasks
            let claimedA = try await a.coordinator.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
            let claimedB = try await b.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w")
            #expect(claimedA.count == 3 && claimedB.count == 1)
            #expect(try await b.coordinator.leases.complete(claimedB.map { Completion(lease: $0.lease, result: Array("1".utf8)) }) == [.done])
            #expect(try await a.state("a0") == .running)
            #expect(try await b.state(claimedB[0].id) == .done)
            #expect(try await a.coordinator.leases.complete(claimedA.map { Completion(lease: $0.lease, result: Array("1".utf8)) }) == [.done, .done, .done])
            let keysA = try await a.keySnapshot().keys
            #expect(!keysA.contains { !$0.hasPrefix(a.keys.prefix) })
            #expect(try await b.readyList().count == 5)
        }
    }

    /// `FUNCTION FLUSH` (or a fresh server) loses the library: the next call loads it again and
    /// runs, as EVALSHA recovers from NOSCRIPT.
    @Test func aLostLibraryIsLoadedAgain() async throws {
        try await withRedisServer { server in
            let redis = server.makeClient()
            defer { Task { await redis.close() } }
            let engine = try Coordinator(redis: redis, namespace: "lost")
            _ = try await engine.tasks.submit([TaskSpec(id: "one", handler: "noop")])
            _ = try await redis.send("FUNCTION", "FLUSH")
            _ = try await engine.tasks.submit([TaskSpec(id: "two", handler: "noop")])
            let libraries = try await redis.send("FUNCTION", "LIST", "LIBRARYNAME", RedisArgument(Scripts.library.name)).decodeArray()
            #expect(libraries.count == 1)
            let claimed = try await engine.leases.claim(queues: ["default"], count: 10, lease: .seconds(30), worker: "w")
            #expect(claimed.map(\.id).sorted() == ["one", "two"])
        }
    }

    /// Every script is a function of the library, named after it.
    @Test func everyScriptIsAFunctionOfTheLibrary() throws {
        #expect(Scripts.library.source.hasPrefix("#!lua name=\(Scripts.library.name)\n"))
        for script in Scripts.all {
            #expect(Scripts.library.source.contains("redis.register_function('\(Scripts.functionName(script))', function(keys, args) BEGIN(keys, args)\n-- \(script.name).lua\n"))
        }
    }
}
