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

/// The workers page at scale: overdue flags from the deadlines workers register (a task's record
/// is read only when its deadline passed since its worker's last registration), and a bounded
/// list of running tasks per worker with "and N more".
@Suite("Dashboard: workers page, overdue from registered deadlines", .enabled(if: RedisServerFixture.shouldRun))
struct WorkersPageTests {
    /// Claims `ids` (submitted with `timeout`) for `worker` with `lease`: the claims, and the
    /// deadlines a jobq-worker registers for them.
    static func claim(_ client: JobqClient, _ ids: [String], timeout: Duration, lease: Duration = .seconds(60), worker: String) async throws -> (claimed: [ClaimedTask], deadlines: [String: Int64]) {
        _ = try await client.engine.tasks.submit(ids.map { TaskSpec(id: $0, handler: "h", queue: "q-\(worker)", timeout: timeout) })
        let claimed = try await client.engine.leases.claim(queues: ["q-\(worker)"], count: ids.count, lease: lease, worker: worker)
        #expect(Set(claimed.map(\.id)) == Set(ids))
        var deadlines: [String: Int64] = [:]
        for task in claimed { deadlines[task.id] = WorkerInfo.timeoutDeadline(leaseDeadline: task.leaseDeadline, lease: lease, timeout: task.timeout) }
        return (claimed, deadlines)
    }

    static func register(_ client: JobqClient, _ id: String, running: [String], deadlines: [String: Int64]?) async throws {
        try await client.engine.leases.register(
            worker: WorkerInfo(id: id, host: "h", pid: 1, queues: ["q-\(id)"], concurrency: 50, running: running, heartbeatMilliseconds: 10_000, deadlines: deadlines),
            ttl: .seconds(60)
        )
    }

    /// The deadline a worker registers is the record's `started` plus its timeout: the instant
    /// the record-based rule compares with.
    @Test func aRegisteredDeadlineIsTheRecordsStartPlusItsTimeout() async throws {
        try await withDashboardRouter { client, _, _ in
            let deadlines = try await Self.claim(client, ["a"], timeout: .seconds(90), lease: .seconds(7), worker: "w").deadlines
            let record = try #require(try await client.task("a"))
            let started = try #require(record.started)
            #expect(deadlines["a"] == started + 90_000, "\(deadlines) started \(started)")
            #expect(WorkerInfo.timeoutDeadline(leaseDeadline: 1_000, lease: .seconds(1), timeout: .zero) == nil, "no timeout, no deadline")
            // what a registration stores, a read gives back
            try await Self.register(client, "w", running: ["a"], deadlines: deadlines)
            let read = try #require(try await client.workers().first)
            #expect(read.deadlines == deadlines && read.overdue.isEmpty, "\(read)")
        }
    }

    @Test func overdueTasksComeFromTheDeadlinesWorkersRegister() async throws {
        try await withDashboardRouter { client, _, http in
            // `late`: past its 200 ms timeout when its worker registered again (its own word);
            // `ended`: its deadline passed after the worker's registration, and it ended since
            // (its record says so); `slow`: passed after the registration and still RUNNING;
            // `fresh`: a 10-minute timeout.
            let late = try await Self.claim(client, ["late"], timeout: .milliseconds(200), worker: "w1")
            let fresh = try await Self.claim(client, ["fresh"], timeout: .seconds(600), worker: "w1")
            try await Task.sleep(for: .milliseconds(300))
            try await Self.register(client, "w1", running: ["fresh", "late"], deadlines: late.deadlines.merging(fresh.deadlines) { $1 })
            let w2 = try await Self.claim(client, ["ended", "slow"], timeout: .milliseconds(300), worker: "w2")
            try await Self.register(client, "w2", running: ["ended", "slow"], deadlines: w2.deadlines)
            try await Task.sleep(for: .milliseconds(400))
            // `ended` ends (its worker has not registered since): its record is no longer RUNNING
            let ended = try #require(w2.claimed.first { $0.id == "ended" })
            _ = try await client.engine.leases.fail([Failure(lease: ended.lease, mode: .final, reason: "error", message: "x")])
            // a worker that registers no deadlines (an older version): its records decide
            let legacy = try await Self.claim(client, ["old"], timeout: .milliseconds(100), worker: "w3")
            #expect(legacy.deadlines["old"] != nil)
            try await Self.register(client, "w3", running: ["old"], deadlines: nil)
            try await Task.sleep(for: .milliseconds(200))

            let workers = try await client.workers()
            func overdue(_ id: String) throws -> [String] { try #require(workers.first { $0.id == id }, "\(workers)").overdue }
            #expect(try overdue("w1") == ["late"])
            #expect(try overdue("w2") == ["slow"])
            #expect(try overdue("w3") == ["old"])
            #expect(workers.first { $0.id == "w3" }?.deadlines == nil)

            // the same in the API, `jobq workers --json`'s shape
            try await http.execute(uri: "/api/v1/workers", method: .get) { response in
                let listed = try #require(try jsonObject(response)["workers"] as? [[String: Any]])
                let w1 = try #require(listed.first { $0["id"] as? String == "w1" })
                #expect(w1["overdue"] as? [String] == ["late"] && w1["stuck"] as? Bool == true, "\(w1)")
                #expect(w1["running"] as? [String] == ["fresh", "late"])
            }
        }
    }

    /// The worker said, after its deadline, that it still runs the task: overdue on its word,
    /// without reading the record (here there is none).
    @Test func aTaskPastItsDeadlineAtTheLastRegistrationIsOverdueWithoutARead() async throws {
        try await withDashboardRouter { client, _, _ in
            let now = try await client.serverTime()
            try await Self.register(client, "w", running: ["ghost", "ahead", "untimed"], deadlines: ["ghost": now - 5_000, "ahead": now + 600_000])
            let worker = try #require(try await client.workers().first)
            #expect(worker.overdue == ["ghost"], "\(worker)")
            // the rule itself: passed at the last registration / since it / ahead / no timeout
            let verdict = Inspector.overdue(running: ["a", "b", "c", "d"], deadlines: ["a": 100, "b": 250, "c": 400], lastSeen: 200, now: 300)
            #expect(verdict.overdue == ["a"] && verdict.unsure == ["b"])
            #expect(Inspector.overdue(running: ["a"], deadlines: nil, lastSeen: 200, now: 300).unsure == ["a"])
        }
    }

    @Test func aWorkerRowListsTenTasksThenLinksToAllOfThem() async throws {
        try await withDashboardRouter { client, _, http in
            let ids = (0..<25).map { String(format: "t%02d", $0) }
            var deadlines = try await Self.claim(client, ids, timeout: .seconds(600), worker: "big").deadlines
            let now = try await client.serverTime()
            deadlines["t20"] = now - 1_000 // overdue: listed first
            try await Self.register(client, "big", running: ids, deadlines: deadlines)
            try await Self.register(client, "small", running: [], deadlines: [:])
            try await http.execute(uri: "/workers", method: .get) { response in
                let html = String(buffer: response.body)
                #expect(response.status == .ok)
                let links = html.components(separatedBy: "href=\"/tasks/t").count - 1
                #expect(links == WorkersPage.shownTasks, "\(links) task links")
                #expect(html.contains("href=\"/tasks/t20\">t20</a> <span class=\"flag stuck\">overdue</span>"), "the overdue task is shown first")
                #expect(html.contains("<a href=\"/workers?worker=big\" class=\"more\">and 15 more</a>"), "\(html)")
                #expect(html.contains("data-worker=\"big\" data-stuck=\"true\"") && html.contains("data-worker=\"small\""))
            }
            try await http.execute(uri: "/workers?worker=big", method: .get) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("<h1>Worker big</h1>"), "\(html)")
                #expect(html.components(separatedBy: "href=\"/tasks/t").count - 1 == 25)
                #expect(!html.contains("and 15 more") && !html.contains("data-worker=\"small\""))
            }
            try await http.execute(uri: "/api/v1/workers?worker=big", method: .get) { response in
                let listed = try #require(try jsonObject(response)["workers"] as? [[String: Any]])
                #expect(listed.count == 1 && (listed.first?["running"] as? [String])?.count == 25 && listed.first?["overdue"] as? [String] == ["t20"], "\(listed)")
            }
            try await http.execute(uri: "/workers?worker=nobody", method: .get) { response in
                #expect(String(buffer: response.body).contains("no worker nobody alive"))
            }
        }
    }
}
