import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import Testing

/// Maps under load (issue 11, "Tests and measurements"): real worker processes, a real
/// redis-server, and the test handlers' own journal as the record. Prints a `FAULT map-window:`
/// line with its figures.
@Suite("Fault tests: maps under load", .enabled(if: redisAvailable), .serialized)
struct MapScenarioTests {
    struct Slept: Decodable, Equatable {
        var slept: Double
    }

    /// A task's result (10,000 sleep durations, 0.05–0.2 s) mapped with window 50 on 3 workers ×
    /// 20 slots (more slots than the window): from the handlers' own start/end times, the child
    /// run never had more than 50 running and did reach 50 (else the test proves nothing); every
    /// element ran exactly once (one start, one successful end per child, checked by the fault
    /// checker); and the dependent got the 10,000 results in element order.
    @Test func aMapOfTenThousandNeverExceedsItsWindow() async throws {
        try await withFleet { fleet in
            let count = 10_000
            let window = 50
            let seconds = (0..<count).map { 0.05 + Double($0 % 4) * 0.05 }
            var flow = Workflow("mapped")
            let list = try flow.add("list", handler: "jobq.echo", payload: seconds)
            let template = TaskSpec(handler: "jobq.sleep", payload: Array(#"{"seconds": {"$item": true}}"#.utf8), maxAttempts: 1, timeout: .seconds(60))
            let mapped = try flow.add("m", map: .resultOf(list), task: template, width: count, window: window)
            try flow.add("after", handler: "jobq.echo", payload: ["$retval": "m"], requires: [mapped])
            let start = ContinuousClock.now
            for _ in 0..<3 { try fleet.startWorker(concurrency: 20) }
            let run = try await fleet.client.submit(flow, run: "big")
            let outcome = try await run.wait(timeout: .seconds(600))
            let elapsed = ContinuousClock.now - start
            #expect(outcome.state == .done, "\(outcome)")
            let child = try await fleet.client.run("big.m")
            #expect(child.state == .done && child.counts == [.done: count], "\(child.counts)")

            let executions = RunScenarioTests.executions(fleet.journal().entries).filter { RunScope.run(of: $0.task) == "big.m" }
            let peak = RunScenarioTests.peakConcurrency(executions) { _ in "map" }["map"] ?? 0
            let busiest = RunScenarioTests.peakConcurrency(RunScenarioTests.executions(fleet.journal().entries)) { _ in "all" }["all"] ?? 0
            #expect(peak <= window, "the map's child run had \(peak) tasks running at once; its window is \(window)")
            #expect(peak == window, "the map never filled its window of \(window) (peak \(peak)): the test proves nothing")

            // Every element ran once, in its own child, and the results came back in order.
            let children = (0..<count).map { index in
                SubmittedTask(template, id: "big.m/\(index)")
            }
            let checked = try await fleet.check(children, faults: false, countNamespace: false)
            report("map-window", checked, extra: "elements=\(count) window=\(window) peak=\(peak) workers=3x20 peakBusySlots=\(busiest) elapsed=\(elapsed)")
            let results = try await fleet.client.result(of: "big/after", as: [Slept].self)
            #expect(results == seconds.map { Slept(slept: $0) }, "the dependent's list is the children's results in element order")
        }
    }
}
