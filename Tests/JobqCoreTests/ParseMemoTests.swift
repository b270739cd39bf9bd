import JobqRedis
import Testing

@testable import JobqCore

/// The parses the scripts keep across calls (prelude.lua MEMO: specs and handler/queue names):
/// more distinct spec texts than a kind's table holds (MEMO.MAX, 1,024) go through submit, claim
/// and complete, so the table is emptied and filled again several times; every claimed task must
/// still carry its own handler, title, attempts and timeout, and its own key's count (a key and
/// limit per task, parsed per call) must be exact beside it.
@Suite("parses kept across script calls", .enabled(if: redisAvailable))
struct ParseMemoTests {
    @Test func moreDistinctSpecsAndKeysThanTheMemoHoldsStayExact() async throws {
        try await withEngine { engine in
            let total = 5_000
            var expected: [String: (handler: String, title: String, maxAttempts: Int, timeoutSeconds: Int64)] = [:]
            var submitted = 0
            while submitted < total {
                var batch: [TaskSpec] = []
                for index in submitted..<min(submitted + 500, total) {
                    let id = "t\(index)"
                    var task = spec(id, maxAttempts: 1 + index % 7)
                    task.handler = "h\(index % 5)"
                    task.title = "title \(index)"  // a spec text of its own
                    task.timeout = .seconds(60 + index % 11)
                    task.concurrency = ConcurrencyLimit(key: "k\(index)", limit: 1 + index % 3)  // a key of its own
                    expected[id] = (task.handler, task.title, task.maxAttempts, Int64(60 + index % 11))
                    batch.append(task)
                }
                _ = try await engine.coordinator.tasks.submit(batch)
                submitted += batch.count
            }
            var seen = 0
            while true {
                let claimed = try await engine.coordinator.leases.claim(queues: ["default"], count: 400, lease: .seconds(300), worker: "w1")
                if claimed.isEmpty { break }
                for task in claimed {
                    let want = try #require(expected[task.id])
                    #expect(task.handler == want.handler && task.title == want.title, "\(task.id): \(task.handler) \(task.title)")
                    #expect(task.maxAttempts == want.maxAttempts && task.timeout == .seconds(want.timeoutSeconds), "\(task.id)")
                }
                // every key counts exactly its one running task, with that task's own limit
                let counts = try await LimitBookkeepingTests.counts(engine)
                for task in claimed {
                    let index = try #require(Int(task.id.dropFirst()))
                    #expect(counts["k\(index)"]?.running == 1 && counts["k\(index)"]?.limit == 1 + index % 3, "k\(index): \(String(describing: counts["k\(index)"]))")
                }
                let done = try await engine.coordinator.leases.complete(claimed.map { Completion(lease: $0.lease, result: Array("1".utf8)) })
                #expect(done.allSatisfy { $0 == .done })
                seen += claimed.count
            }
            #expect(seen == total)
            #expect(try await LimitBookkeepingTests.counts(engine).isEmpty)
        }
    }
}
