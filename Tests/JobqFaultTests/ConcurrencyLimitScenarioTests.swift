import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import Testing

/// Concurrency limits by key under load, with real worker processes and the test handlers' own
/// journal as the record (never jobq's counters alone). Prints a `FAULT limits:` line.
@Suite("Fault tests: concurrency limits under load", .enabled(if: redisAvailable), .serialized)
struct ConcurrencyLimitScenarioTests {
    /// 3 workers × 4 slots, 2,000 short sleeps over 20 tenant keys with limit 2, submitted in
    /// blocks of 5 per tenant (so a claim keeps meeting full keys and parks), plus 200 unkeyed
    /// sleeps among them: from the journal's start/end times, no key ever had more than 2
    /// running, every key reached 2 (else the test proves nothing), everything ended DONE exactly
    /// once, and the counters and parked lists are gone at the end.
    @Test func noKeyEverExceedsItsLimitAcrossWorkers() async throws {
        try await withFleet { fleet in
            let tenants = 20
            let (specs, keyOf) = try await RunScenarioTests.keyedBacklog(
                fleet, prefix: "k", count: 2_000, keys: tenants, block: 5, freeEvery: 10,
                payload: { index, tenant in "{\"seconds\": \(0.01 + Double(index % 3) * 0.01), \"tenant\": \(tenant)}" }
            ) { task, tenant in
                task.concurrency = ConcurrencyLimit(key: "tenant-{payload.tenant}", limit: 2)
                return "tenant-\(tenant)"
            }
            let submitted = specs.map { SubmittedTask($0, id: $0.id ?? "") }
            let (executions, elapsed) = try await RunScenarioTests.drainOnThreeWorkers(fleet, total: submitted.count, timeout: .seconds(120))
            let peaks = RunScenarioTests.peakConcurrency(executions) { keyOf[$0] }
            let busiest = RunScenarioTests.peakConcurrency(executions) { _ in "all" }["all"] ?? 0
            #expect(peaks.count == tenants)
            for (key, peak) in peaks.sorted(by: { $0.key < $1.key }) {
                #expect(peak <= 2, "\(key) had \(peak) tasks running at once; its limit is 2")
                #expect(peak == 2, "\(key) never reached its limit of 2 (peak \(peak)): the test proves nothing")
            }
            let leftovers = try await fleet.coordinator.tasks.limits(count: 1000)
            #expect(leftovers.keys.isEmpty && leftovers.next == nil, "\(leftovers)")
            print("FAULT limits: tasks=\(submitted.count) keys=\(tenants) limit=2 workers=3x4 peakBusySlots=\(busiest) maxPeakPerKey=\(peaks.values.max() ?? 0) elapsed=\(elapsed)")
            let checked = try await fleet.check(submitted, faults: false)
            report("limits", checked)
        }
    }
}
