import Foundation
import Jobq
import JobqCore
import JobqWorker
import Synchronization
import Testing

/// Service tasks on a real worker (issue 11, "Lifetimes"): the service's handler runs beside the
/// run's other tasks and is told to stop (its Swift task cancelled, the cancel path) only after
/// the last of them has ended; it ends DONE, reason service_stopped, and the run DONE. Checked
/// from the handlers' own journal.
@Suite("service tasks on a worker", .enabled(if: redisAvailable))
struct ServiceWorkerTests {
    /// Times (ms since the reference date) the handlers recorded themselves.
    final class Journal: Sendable {
        let serviceStarted = Mutex<Double?>(nil)
        let serviceTold = Mutex<Double?>(nil)
        let workEnded = Mutex<[String: Double]>([:])
        let workStarted = Mutex<[String: Double]>([:])
        static var now: Double { Date().timeIntervalSinceReferenceDate * 1000 }
    }

    static func registry(_ journal: Journal) -> HandlerRegistry {
        var registry = HandlerRegistry()
        registry.register("service", raw: { _, _ in
            journal.serviceStarted.withLock { $0 = Journal.now }
            do {
                while true { try await Task.sleep(for: .seconds(60)) }
            } catch {
                journal.serviceTold.withLock { $0 = Journal.now }
                throw error
            }
        })
        registry.register("work", raw: { payload, _ in
            let key = String(decoding: payload, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            journal.workStarted.withLock { $0[key] = Journal.now }
            try await Task.sleep(for: .milliseconds(300))
            journal.workEnded.withLock { $0[key] = Journal.now }
            return payload
        })
        return registry
    }

    @Test func theServiceIsToldToStopAfterTheLastOtherTaskAndEndsDone() async throws {
        try await withHarness { harness in
            let journal = Journal()
            try harness.startWorker(Self.registry(journal)) { $0.concurrency = 4 }
            var flow = Workflow("with-service")
            let service = try flow.add("svc", handler: "service")
            try flow.markService(service)
            let a = try flow.add("a", handler: "work", payload: "a")
            let b = try flow.add("b", handler: "work", payload: "b", requires: [service], policy: .always)
            try flow.add("c", handler: "work", payload: "c", requires: [a, b])
            let run = try await harness.client.submit(flow, run: "t")
            let outcome = try await run.wait(timeout: .seconds(30))
            #expect(outcome.state == .done && outcome.counts == [.done: 4], "\(outcome)")

            let svc = try await harness.client.status("t/svc")
            #expect(svc.state == .done && svc.reason == "service_stopped" && svc.service)
            let started = try #require(journal.serviceStarted.withLock { $0 })
            let told = try #require(journal.serviceTold.withLock { $0 }, "the service's handler was told to stop")
            let ended = journal.workEnded.withLock { $0 }
            #expect(ended.count == 3)
            // its client `b` started after the service did; the stop came after the last other task ended
            let bStarted = try #require(journal.workStarted.withLock { $0["b"] })
            let lastEnd = try #require(ended.values.max())
            #expect(bStarted >= started)
            #expect(told >= lastEnd)
        }
    }

    @Test func aServiceThatFailsOnItsOwnLeavesTheRunToItsOtherTasks() async throws {
        try await withHarness { harness in
            let journal = Journal()
            var registry = Self.registry(journal)
            registry.register("broken", raw: { _, _ in throw HandlerError.permanent("cannot start") })
            try harness.startWorker(registry) { $0.concurrency = 2 }
            var flow = Workflow("broken-service")
            let service = try flow.add("svc", handler: "broken", maxAttempts: 1)
            try flow.markService(service)
            try flow.add("a", handler: "work", payload: "a")
            let run = try await harness.client.submit(flow, run: "t")
            let outcome = try await run.wait(timeout: .seconds(30))
            #expect(outcome.state == .done && outcome.counts == [.done: 1, .failed: 1], "\(outcome)")
            #expect(try await harness.client.status("t/svc").state == .failed)
        }
    }
}
