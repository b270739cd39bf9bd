import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobq
import JobqCore
import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqDashboard

/// The runs page's queue filter reads the `q:<queue>:runs` index written at submit: exact for
/// any task of a run (the 65th, one in a later chunk), a spawned child under its own id, paged
/// by cursor, and gone with the run.
@Suite("Dashboard: runs filtered by queue, from the index", .enabled(if: RedisServerFixture.shouldRun))
struct RunQueueFilterTests {
    static func runs(_ http: any TestClientProtocol, _ query: String) async throws -> (ids: [String], next: String?) {
        try await http.execute(uri: "/api/v1/runs" + query, method: .get) { response in
            #expect(response.status == .ok, "\(query): \(String(buffer: response.body))")
            let json = try jsonObject(response)
            return ((json["runs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }, json["next"] as? String)
        }
    }

    @Test func aRunIsFoundByTheQueueOfItsSixtyFifthTask() async throws {
        try await withDashboardRouter { client, _, http in
            // 70 tasks: the first 64 on `common`, the 65th and later the only ones on `rare`
            let specs = (0..<70).map { TaskSpec(id: "t\($0)", handler: "h", queue: $0 < 64 ? "common" : "rare") }
            _ = try await client.submit(specs, run: RunOptions(id: "wide", definition: "d"))
            _ = try await client.submit([TaskSpec(id: "a", handler: "h", queue: "common")], run: RunOptions(id: "narrow", definition: "d"))
            #expect(try await Self.runs(http, "?queue=rare").ids == ["wide"])
            #expect(try await Self.runs(http, "?queue=common").ids == ["narrow", "wide"])
            #expect(try await Self.runs(http, "?queue=none").ids.isEmpty)
            // combined with the other filters, read on each run's record
            #expect(try await Self.runs(http, "?queue=rare&definition=d&state=pending").ids == ["wide"])
            #expect(try await Self.runs(http, "?queue=rare&definition=other").ids.isEmpty)
            #expect(try await Self.runs(http, "?queue=rare&state=done").ids.isEmpty)
            // the run's record names its queues (what retention takes it out of)
            #expect(try await client.engine.redis.send("HGET", RedisArgument(client.engine.keys.workflow("wide")), "queues").string == " common rare ")
        }
    }

    /// A run submitted in three calls (first, more, last): a queue only the second or the last
    /// call uses finds it; each queue is recorded once.
    @Test func aChunkedRunIsFoundByAQueueOfALaterChunk() async throws {
        try await withDashboardRouter { client, redis, http in
            let size = client.engine.runner.limits.tasksPerSubmitCall
            let total = 2 * size + size / 2
            let specs = (0..<total).map { index in
                TaskSpec(id: "t\(index)", handler: "h", queue: index == size + 3 ? "middle" : index >= 2 * size ? "late" : "early")
            }
            _ = try await client.submit(specs, run: RunOptions(id: "big", definition: "d"))
            #expect(try await Self.runs(http, "?queue=middle").ids == ["big"])
            #expect(try await Self.runs(http, "?queue=late").ids == ["big"])
            #expect(try await Self.runs(http, "?queue=early").ids == ["big"])
            let listed = try await redis.send("HGET", RedisArgument(client.engine.keys.workflow("big")), "queues").string ?? ""
            #expect(Set(listed.split(separator: " ")) == ["early", "middle", "late"] && listed.split(separator: " ").count == 3, "\(listed)")
        }
    }

    /// A spawned child run has its own id: its queue finds it, not its parent's run.
    @Test func aSpawnedChildRunIsListedUnderItsOwnQueue() async throws {
        try await withDashboardRouter { client, _, http in
            _ = try await client.submit([TaskSpec(id: "p", handler: "h", queue: "parents")], run: RunOptions(id: "parent", definition: "d"))
            let parent = try #require(try await client.engine.leases.claim(queues: ["parents"], count: 1, lease: .seconds(30), worker: "w").first)
            let children = (0..<3).map { TaskSpec(id: "c\($0)", handler: "h", queue: "kids") }
            var (specs, options) = try ChildRunRequest(definition: "kids", tasks: children).submission(id: ChildRunRequest.childRunID(parent: parent.id, key: "children"))
            options.spawnedBy = SpawnFence(parent: parent.lease, policy: .failParent, width: specs.count)
            let child = try await client.engine.tasks.submit(specs, run: options)
            let childRun = try #require(child.run)
            #expect(try await Self.runs(http, "?queue=kids").ids == [childRun])
            #expect(try await Self.runs(http, "?queue=parents").ids == ["parent"])
        }
    }

    @Test func theFilterPagesByCursorAndForgetsARunWithItsRecord() async throws {
        try await withDashboardRouter { client, redis, http in
            for index in 0..<5 {
                let queue = index % 2 == 0 ? "even" : "odd"
                _ = try await client.submit([TaskSpec(id: "a", handler: "h", queue: queue, resultTTL: .seconds(1))], run: RunOptions(id: "r\(index)", definition: "d"))
            }
            var seen: [String] = []
            var query = "?queue=even&limit=1"
            for _ in 0..<5 {
                let page = try await Self.runs(http, query)
                seen += page.ids
                guard let next = page.next else { break }
                query = "?queue=even&limit=1&after=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? next)
            }
            #expect(seen == ["r4", "r2", "r0"])
            // the CLI's reader: the same page
            let page = try await client.runs(queue: "even", limit: 10)
            #expect(page.runs.map(\.id) == ["r4", "r2", "r0"] && page.next == nil)

            // r0 ends and its retention (1 s) runs out: it leaves the queue's index with its record
            let claimed = try #require(try await client.engine.leases.claim(queues: ["even"], count: 3, lease: .seconds(30), worker: "w").first { $0.id == "r0/a" })
            _ = try await client.engine.leases.fail([Failure(lease: claimed.lease, mode: .final, reason: "error", message: "x")])
            try await Task.sleep(for: .milliseconds(1_100))
            for _ in 0..<3 { _ = try await client.engine.maintenance.promote() }
            await #expect(throws: JobqError.self) { try await client.run("r0") }
            #expect(try await Self.runs(http, "?queue=even").ids == ["r4", "r2"])
            let members = try await redis.send("ZRANGE", RedisArgument(client.engine.keys.queueRuns("even")), 0, -1).array?.compactMap(\.string)
            #expect(members == ["r2", "r4"])
        }
    }
}
