import JobqCore
import JobqRedis
import JobqTestSupport
import Testing

/// The per-task `trace` field: stored by submit.lua only when given, handed back by claim.lua on
/// every attempt, bounded, and never part of the idempotency fingerprint.
@Suite("Trace context field", .enabled(if: redisAvailable))
struct TraceFieldScriptTests {
    static let headers = ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "vendor=a,other=b c"]

    @Test func storedOnlyWhenGivenAndHandedToEveryClaim() async throws {
        try await withEngine { engine in
            _ = try await engine.coordinator.tasks.submit([spec("traced", maxAttempts: 2)], trace: Self.headers)
            _ = try await engine.coordinator.tasks.submit([spec("plain")])
            #expect(try await engine.field("traced", "trace") == TraceCarrier.encode(Self.headers))
            // no cost for an untraced task: not even an empty field
            #expect(try await engine.redis.send("HEXISTS", RedisArgument(engine.keys.task("plain")), "trace").decodeInt() == 0)

            let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 2, lease: .seconds(30), worker: "w1")
            #expect(Dictionary(uniqueKeysWithValues: claimed.map { ($0.id, $0.traceHeaders) }) == ["traced": Self.headers, "plain": [:]])

            // a retried attempt carries the same context (it is the same producer's task)
            let traced = try #require(claimed.first { $0.id == "traced" })
            _ = try await engine.coordinator.leases.fail([Failure(lease: traced.lease, mode: .retry(delay: .zero), reason: "error", message: "boom")])
            let again = try await engine.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(30), worker: "w2")
            #expect(again.map(\.id) == ["traced"])
            #expect(again.first?.traceHeaders == Self.headers)
            #expect(again.first?.attempt == 2)
        }
    }

    @Test func aReplayFromAnotherTraceIsTheSameSubmission() async throws {
        try await withEngine { engine in
            let first = try await engine.coordinator.tasks.submit([spec("a")], idempotencyKey: "k1", trace: Self.headers)
            let other = ["traceparent": "00-11111111111111111111111111111111-2222222222222222-01"]
            let replay = try await engine.coordinator.tasks.submit([spec("a")], idempotencyKey: "k1", trace: other)
            #expect(replay.created == false)
            #expect(replay.tasks.map(\.id) == first.tasks.map(\.id))
            #expect(try await engine.field("a", "trace") == TraceCarrier.encode(Self.headers))
        }
    }

    @Test func carrierEncodingRoundTripsAndDropsWhatIsTooLarge() {
        #expect(TraceCarrier.decode(Array(TraceCarrier.encode(Self.headers).utf8)) == Self.headers)
        #expect(TraceCarrier.encode([:]) == "")
        #expect(TraceCarrier.encode(["tracestate": String(repeating: "x", count: TraceCarrier.maxBytes)]) == "")
        #expect(TraceCarrier.decode(Array("not json".utf8)) == [:])
        #expect(TraceCarrier.decode(Array(#"{"traceparent":1}"#.utf8)) == [:])
    }
}
