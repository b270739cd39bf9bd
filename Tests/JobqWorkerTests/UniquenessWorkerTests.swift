import Foundation
import Jobq
import JobqCore
import JobqWorker
import Testing

/// Uniqueness with real workers, checked from the handlers' own journal: a debounced burst runs
/// once, with the newest payload, no earlier than its quiet time after the last submit; with
/// `until_finished`, tasks of one key never overlap while producers keep submitting.
@Suite("Worker: unique keys and debounce, from the handlers' journal", .enabled(if: redisAvailable))
struct UniquenessWorkerTests {
    struct Run: Sendable {
        var payload: String
        var started: ContinuousClock.Instant
        var ended: ContinuousClock.Instant?
    }

    static func keyed(_ payload: String, _ mode: Uniqueness.Mode, key: String = "k-{payload.k}") -> TaskSpec {
        var spec = TaskSpec(handler: "journal", payload: Array(payload.utf8), maxAttempts: 1)
        spec.uniqueness = Uniqueness(key: key, mode: mode)
        return spec
    }

    @Test func aDebouncedBurstRunsOnceWithTheNewestPayloadAfterItsQuietTime() async throws {
        try await withHarness { harness in
            let journal = Box<[Run]>([])
            var registry = HandlerRegistry()
            registry.register("journal", raw: { payload, _ in
                journal.update { $0.append(Run(payload: String(decoding: payload, as: UTF8.self), started: .now)) }
                return Array("null".utf8)
            })
            try harness.startWorker(registry)
            try harness.startWorker(registry)
            let quiet = Duration.milliseconds(800)
            var ids = Set<String>()
            var lastSubmit = ContinuousClock.now
            for burst in 0..<2 {
                for n in 0..<8 {
                    lastSubmit = .now
                    let result = try await harness.client.submit([Self.keyed(#"{"k":1,"burst":\#(burst),"n":\#(n)}"#, .debounce(quiet))])
                    ids.formUnion(result.tasks.map(\.id))
                    try await Task.sleep(for: .milliseconds(100))
                }
                let id = try #require(try await harness.client.submit([Self.keyed(#"{"k":1,"burst":\#(burst),"n":8}"#, .debounce(quiet))]).tasks.first?.id)
                #expect(ids.count == burst + 1, "one task per burst")
                #expect(try await harness.finished(id).state == .done)
                let runs = journal.current
                #expect(runs.count == burst + 1, "\(runs.map(\.payload))")
                let run = try #require(runs.last)
                #expect(run.payload == #"{"k":1,"burst":\#(burst),"n":8}"#, "the newest payload")
                let waited = run.started - lastSubmit
                // the quiet time counts from the last submit (Redis clock; 5 ms for the two clocks' reading)
                #expect(waited >= quiet - .milliseconds(5), "started \(waited) after the last submit")
                print("debounce \(quiet): burst \(burst) started \(waited) after its last submit")
            }
        }
    }

    @Test func untilFinishedTasksOfOneKeyNeverOverlapWhileProducersSubmit() async throws {
        try await withHarness { harness in
            let journal = Box<[String: [Run]]>([:])
            var registry = HandlerRegistry()
            registry.register("journal", raw: { payload, context in
                let key = String(decoding: payload, as: UTF8.self)
                let started = ContinuousClock.now
                try await Task.sleep(for: .milliseconds(30))
                journal.update { $0[key, default: []].append(Run(payload: context.taskID, started: started, ended: .now)) }
                return Array("null".utf8)
            })
            for _ in 0..<3 { try harness.startWorker(registry) { $0.concurrency = 4 } }
            let keys = 4
            var created = 0
            try await withThrowingTaskGroup(of: Int.self) { group in
                for producer in 0..<4 {
                    group.addTask {
                        var made = 0
                        for round in 0..<40 {
                            let spec = Self.keyed(#"{"k":\#((producer + round) % keys)}"#, .untilFinished)
                            if try await harness.client.submit([spec]).created { made += 1 }
                            try await Task.sleep(for: .milliseconds(5))
                        }
                        return made
                    }
                }
                for try await made in group { created += made }
            }
            // let the last ones finish
            let deadline = ContinuousClock.now + .seconds(15)
            while journal.current.values.map(\.count).reduce(0, +) < created, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            let runs = journal.current
            #expect(runs.values.map(\.count).reduce(0, +) == created, "every created task ran once")
            #expect(created < 160, "some submits were deduplicated")
            for (key, list) in runs {
                let sorted = list.sorted { $0.started < $1.started }
                for (a, b) in zip(sorted, sorted.dropFirst()) {
                    #expect(try #require(a.ended) <= b.started, "\(key): \(a.payload) and \(b.payload) overlapped")
                }
            }
            print("until_finished: 160 submits over \(keys) keys from 4 producers created \(created) tasks")
        }
    }
}
