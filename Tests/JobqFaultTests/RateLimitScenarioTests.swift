import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import Testing

/// Rate limits by key under load, with real worker processes and the test handlers' own journal
/// as the record (never jobq's counters alone). Prints `FAULT rates:` lines.
@Suite("Fault tests: rate limits under load", .enabled(if: redisAvailable), .serialized)
struct RateLimitScenarioTests {
    /// The journal's start time is the handler's, a little after the claim that counted the
    /// start (the lease, the dispatch to a slot): two claims an interval apart may show as a bit
    /// less. Windows are checked this much shorter than the interval.
    static let dispatchSlack: Int64 = 60

    /// The most starts of one key's sorted `starts` (ms) within any window of `width` ms.
    static func busiestWindow(_ starts: [Int64], width: Int64) -> Int {
        var best = 0, low = 0
        for high in starts.indices {
            while starts[high] - starts[low] >= width { low += 1 }
            best = max(best, high - low + 1)
        }
        return best
    }

    /// 3 workers × 4 slots, 1,500 short sleeps over 6 keys at 25 per 500 ms, in blocks of 10 per
    /// key (so claims keep meeting keys over their rate and park), plus 300 unkeyed sleeps among
    /// them: from the journal's start times, no key ever had more than 25 starts in any window
    /// of the interval (less the dispatch slack), every key reached 25 in some window (else
    /// the test proves nothing), everything ended DONE exactly once, and nothing is left parked.
    @Test func noKeyEverStartsMoreThanItsRateInAnyWindow() async throws {
        try await withFleet { fleet in
            let keys = 6, rate = 25, interval: Int64 = 500
            let (specs, keyOf) = try await RunScenarioTests.keyedBacklog(
                fleet, prefix: "r", count: 1_500, keys: keys, block: 10, freeEvery: 5,
                payload: { _, key in "{\"seconds\": 0.005, \"k\": \(key)}" }
            ) { task, key in
                task.rate = RateLimit(rate, per: .milliseconds(interval), key: "api-{payload.k}")
                return "api-\(key)"
            }
            let submitted = specs.map { SubmittedTask($0, id: $0.id ?? "") }
            let (executions, elapsed) = try await RunScenarioTests.drainOnThreeWorkers(fleet, total: submitted.count, timeout: .seconds(120))
            var starts: [String: [Int64]] = [:]
            for execution in executions { if let key = keyOf[execution.task] { starts[key, default: []].append(execution.start) } }
            #expect(starts.count == keys)
            var busiest: [String: Int] = [:]
            for (key, times) in starts {
                let sorted = times.sorted()
                busiest[key] = Self.busiestWindow(sorted, width: interval - Self.dispatchSlack)
                #expect(busiest[key]! <= rate, "\(key) started \(busiest[key]!) tasks within \(interval - Self.dispatchSlack) ms; its rate is \(rate) per \(interval) ms")
                #expect(busiest[key]! == rate, "\(key) never used its whole rate (at most \(busiest[key]!) per window): the test proves nothing")
            }
            // a key's 250 tasks at 25 per 500 ms take at least 4.5 s: the rate held the backlog
            #expect(elapsed >= .milliseconds(4_500))
            let left = try await fleet.coordinator.tasks.rateKeys()
            #expect(left.total == 0, "\(left)")
            print("FAULT rates: tasks=\(submitted.count) keys=\(keys) rate=\(rate)/\(interval)ms workers=3x4 busiestWindow=\(busiest.values.max() ?? 0) elapsed=\(elapsed)")
            let checked = try await fleet.check(submitted, faults: false)
            report("rates", checked)
        }
    }

    /// A handler reports "429, retry after 1.5 s" on one of 400 tasks of key `api` (rate high
    /// enough never to bind): from the journal, no task of `api` starts between that run's end
    /// (plus the dispatch slack) and 1.5 s later, while unkeyed tasks run meanwhile (no worker
    /// is held up); the reported task ran again afterwards with its attempt not charged.
    @Test func backpressurePausesTheKeyForTheDelayAcrossWorkers() async throws {
        try await withFleet { fleet in
            let pause: Int64 = 1_500
            var limited = spec("limited", "jobq.ratelimited", payload: "{\"retry_after_ms\": \(pause)}", maxAttempts: 1)
            limited.rate = RateLimit(10_000, per: .seconds(1), key: "api")
            var specs = [limited]
            for index in 0..<400 {
                var task = spec("a\(index)", payload: #"{"seconds": 0.02}"#, maxAttempts: 1)
                task.rate = RateLimit(10_000, per: .seconds(1), key: "api")
                specs.append(task)
                if index % 2 == 0 { specs.append(spec("free\(index)", payload: #"{"seconds": 0.02}"#, maxAttempts: 1)) }
            }
            _ = try await fleet.coordinator.tasks.submit(specs)
            let submitted = specs.map { SubmittedTask($0, id: $0.id ?? "") }
            let (executions, elapsed) = try await RunScenarioTests.drainOnThreeWorkers(fleet, total: submitted.count, timeout: .seconds(120))
            let runs = executions.filter { $0.task == "limited" }.sorted { $0.start < $1.start }
            #expect(runs.count == 2, "the reported task ran \(runs.count) times")
            let reported = try #require(runs.first?.end)
            let keyed = executions.filter { $0.task.hasPrefix("a") || $0.task == "limited" }
            let during = keyed.filter { $0.start > reported + Self.dispatchSlack && $0.start < reported + pause }
            #expect(during.isEmpty, "\(during.count) tasks of api started during its pause: \(during.prefix(5).map { "\($0.task)@+\($0.start - reported)ms" })")
            let after = keyed.filter { $0.start >= reported + pause }
            #expect(!after.isEmpty, "no task of api was left for after the pause: the test proves nothing")
            let unkeyed = executions.filter { $0.task.hasPrefix("free") && $0.start > reported && $0.start < reported + pause }
            #expect(!unkeyed.isEmpty, "no unkeyed task ran during the pause")
            #expect(try await fleet.client.status("limited").attempts == 1)
            print("FAULT rates: backpressure pause=\(pause)ms keyedAfter=\(after.count) unkeyedDuring=\(unkeyed.count) elapsed=\(elapsed)")
            let checked = try await fleet.check(submitted, faults: false)
            report("rates-backpressure", checked)
        }
    }
}
