import Foundation
import Jobq
import JobqCore
import JobqTestSupport
import Testing

/// Task expiry under load (issue 11, "Expiry"), with real worker processes, a real redis-server
/// and the test handlers' own journal as the record: a task that was not started by its expiry
/// never runs, one that was started runs to its end, and nothing is left behind.
@Suite("Fault tests: expiry under load", .enabled(if: redisAvailable), .serialized)
struct ExpiryScenarioTests {
    /// The longest a claimed task's handler may take to write its journal start after the claim
    /// (a process on the same machine; generous for a loaded 2-core VM).
    static let claimToStart: Int64 = 1_000

    /// 3 workers × 4 slots drain 3,000 short sleeps whose expiries are spread from 0.3 s to
    /// 3.15 s after the submission, so the drain outlives some of them: from the journal, no
    /// task that ended CANCELLED ran, and every task that ran started before its expiry (plus
    /// the claim-to-start allowance). Beside them, chains whose head waits 2 s (a delay) and
    /// whose later task expires after 1 s while it waits for its prerequisite, so the
    /// maintenance pass expires it (not a claim), and what depends on it is CANCELLED.
    @Test func aTaskNotStartedByItsExpiryNeverRunsUnderLoad() async throws {
        try await withFleet { fleet in
            var submitted: [SubmittedTask] = []
            var expiryOf: [String: Int64] = [:] // ms after the submission's end
            var specs: [TaskSpec] = (0..<3_000).map { index in
                var task = spec("x\(index)", payload: #"{"seconds": 0.01}"#, maxAttempts: 1)
                let after = Int64(300 + (index % 20) * 150)
                task.expires = .after(.milliseconds(after))
                expiryOf["x\(index)"] = after
                return task
            }
            for chain in 0..<50 {
                // c: head (delayed) → middle → tail (expires while waiting); d: the middle expires
                var head = spec("c\(chain)-0", "jobq.noop", payload: "null", maxAttempts: 1)
                head.delay = .seconds(2)
                let middle = spec("c\(chain)-1", "jobq.noop", payload: "null", after: ["c\(chain)-0"], maxAttempts: 1)
                var tail = spec("c\(chain)-2", "jobq.noop", payload: "null", after: ["c\(chain)-1"], maxAttempts: 1)
                tail.expires = .after(.seconds(1))
                var dHead = spec("d\(chain)-0", "jobq.noop", payload: "null", maxAttempts: 1)
                dHead.delay = .seconds(2)
                var dMiddle = spec("d\(chain)-1", "jobq.noop", payload: "null", after: ["d\(chain)-0"], maxAttempts: 1)
                dMiddle.expires = .after(.seconds(1))
                let dTail = spec("d\(chain)-2", "jobq.noop", payload: "null", after: ["d\(chain)-1"], maxAttempts: 1)
                specs += [head, middle, tail, dHead, dMiddle, dTail]
                submitted += [
                    SubmittedTask(head, id: head.id!, expectedState: .done), SubmittedTask(middle, id: middle.id!, expectedState: .done),
                    SubmittedTask(tail, id: tail.id!, expectedRuns: 0, expectedState: .cancelled),
                    SubmittedTask(dHead, id: dHead.id!, expectedState: .done),
                    SubmittedTask(dMiddle, id: dMiddle.id!, expectedRuns: 0, expectedState: .cancelled),
                    SubmittedTask(dTail, id: dTail.id!, expectedRuns: 0, expectedState: .cancelled),
                ]
            }
            // The workers first, warm: the expiries start counting at the submission.
            try await RunScenarioTests.warmWorkers(fleet, count: 3, concurrency: 4)
            for start in stride(from: 0, to: specs.count, by: 1000) {
                _ = try await fleet.coordinator.tasks.submit(Array(specs[start..<min(start + 1000, specs.count)]))
            }
            // Every expiry is at most this (Redis ms) + its interval: the submit calls ended by now.
            let submittedBy = try await fleet.coordinator.runner.serverTime()
            let standalone = specs.prefix(3_000).map { SubmittedTask($0, id: $0.id!) }
            let drained = await fleet.awaitDrained(total: specs.count + 6, timeout: .seconds(90))
            #expect(drained, "the tasks did not drain in 90 s")

            let entries = fleet.journal().entries
            var firstStart: [String: Int64] = [:]
            for entry in entries where entry.isStart { firstStart[entry.task] = min(firstStart[entry.task] ?? .max, entry.time) }
            let states = try await fleet.states(specs.map { $0.id! })
            var expired = 0, ran = 0, late: [String] = [], ranAnyway: [String] = [], otherReason: [String] = []
            for id in standalone.map(\.id) {
                switch states[id] ?? nil {
                case .cancelled?:
                    expired += 1
                    if firstStart[id] != nil { ranAnyway.append(id) }
                    let info = try await fleet.coordinator.tasks.task(id)
                    if info?.reason != "expired" { otherReason.append("\(id): \(info?.reason ?? "none")") }
                case .done?:
                    ran += 1
                    if let started = firstStart[id], let after = expiryOf[id], started > submittedBy + after + Self.claimToStart {
                        late.append("\(id) started \(started - submittedBy - after) ms after its expiry")
                    }
                default:
                    break // the checker reports it
                }
            }
            for chain in 0..<50 {
                for id in ["c\(chain)-2", "d\(chain)-1", "d\(chain)-2"] where firstStart[id] != nil { ranAnyway.append(id) }
            }
            print("FAULT expiry: tasks=\(specs.count) workers=3x4 standalone_ran=\(ran) standalone_expired=\(expired) ran_after_expiry=\(ranAnyway.count) started_late=\(late.count)")
            #expect(ranAnyway.isEmpty, "tasks that ended CANCELLED ran: \(ranAnyway.prefix(10))")
            #expect(late.isEmpty, "tasks started after their expiry: \(late.prefix(10))")
            #expect(otherReason.isEmpty, "cancelled for another reason: \(otherReason.prefix(10))")
            #expect(ran > 100 && expired > 100, "the drain should outlive some expiries and not others (ran \(ran), expired \(expired)): the test proves nothing")
            let checked = try await fleet.check(submitted + standalone.map { task in
                var task = task
                task.expectedRuns = states[task.id] == .cancelled ? 0 : 1
                return task
            }, faults: false, countNamespace: false)
            report("expiry", checked)
        }
    }
}
