import Foundation
import Hummingbird
import HummingbirdTesting
import Jobq
import JobqCore
import JobqDashboard
import JobqRedis

/// The dashboard's pages at scale, for `JobqBenchmarks dashboard pages`: a namespace seeded
/// through the real scripts, and each page's server time through the dashboard's router.
extension DashboardProbe {
    /// What ``seed(redis:namespace:runs:tasksPerRun:running:workers:queues:deadlines:progress:)`` made, to
    /// name the pages of one run and one task.
    public struct Seeded: Sendable {
        public var run: String
        public var task: String
        public var tasks: Int
        public var running: Int
    }

    /// Fills `namespace` through submit.lua and claim.lua: `runs` runs of `tasksPerRun` tasks
    /// (a tenth roots, the others each after one root, so most wait for a prerequisite; the runs
    /// spread over `queues` queues), submitted 16 at a time on the client's pipelined
    /// connection; then `running` ready tasks claimed (500 per call) by `workers` registered
    /// workers with a one-hour lease.
    public static func seed(
        redis: RedisClient, namespace: String, runs: Int, tasksPerRun: Int, running: Int, workers: Int, queues: Int, deadlines: Bool = true,
        progress: @Sendable (Int) -> Void = { _ in }
    ) async throws -> Seeded {
        let client = JobqClient(engine: try Coordinator(redis: redis, namespace: namespace))
        let roots = max(tasksPerRun / 10, 1)
        func specs(_ run: Int) -> [TaskSpec] {
            let queue = "q\(run % queues)"
            return (0..<tasksPerRun).map { index in
                TaskSpec(
                    id: "t\(index)", handler: "bench.step\(index % 5)", queue: queue, payload: Array(#"{"n":\#(index)}"#.utf8),
                    prerequisites: index < roots ? [] : [Prerequisite("t\(index % roots)")]
                )
            }
        }
        var submitted = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0..<min(16, runs) {
                let run = next
                next += 1
                group.addTask { _ = try await client.submit(specs(run), run: RunOptions(id: String(format: "bench-%07d", run), definition: "bench")) }
            }
            while try await group.next() != nil {
                submitted += 1
                if submitted % 50 == 0 { progress(submitted * tasksPerRun) }
                if next < runs {
                    let run = next
                    next += 1
                    group.addTask { _ = try await client.submit(specs(run), run: RunOptions(id: String(format: "bench-%07d", run), definition: "bench")) }
                }
            }
        }
        let names = (0..<queues).map { "q\($0)" }
        var claimed: [ClaimedTask] = []
        var worker = 0
        let perWorker = max(running / max(workers, 1), 1)
        let lease = Duration.seconds(3600)
        while claimed.count < running {
            let batch = try await client.engine.leases.claim(queues: names, count: min(500, running - claimed.count), lease: lease, worker: "bench-w\(worker % max(workers, 1))")
            guard !batch.isEmpty else { break }
            claimed += batch
            worker += 1
        }
        for index in 0..<max(workers, 1) {
            let mine = Array(claimed.dropFirst(index * perWorker).prefix(perWorker))
            // as a jobq-worker registers: with each task's timeout deadline, unless `deadlines`
            // is false (a worker of a version that did not say: its tasks' records are read)
            var timeouts: [String: Int64] = [:]
            for task in mine { timeouts[task.id] = WorkerInfo.timeoutDeadline(leaseDeadline: task.leaseDeadline, lease: lease, timeout: task.timeout) }
            try await client.engine.leases.register(
                worker: WorkerInfo(id: "bench-w\(index)", host: "bench", pid: index, queues: names, concurrency: perWorker, running: mine.map(\.id),
                                   heartbeatMilliseconds: 10_000, deadlines: deadlines ? timeouts : nil),
                ttl: .seconds(3600)
            )
        }
        return Seeded(run: String(format: "bench-%07d", runs - 1), task: claimed.last?.id ?? String(format: "bench-%07d/t0", runs - 1), tasks: runs * tasksPerRun, running: claimed.count)
    }

    /// The dashboard's pages and API twins for the run and task of `seeded`, in a fixed order.
    public static func paths(_ seeded: Seeded) -> [String] {
        let pages = ["/", "/runs", "/runs/" + seeded.run, "/tasks/" + seeded.task, "/queues", "/workers", "/limits", "/schedules"]
        let apis = ["/api/v1/overview", "/api/v1/runs", "/api/v1/runs/" + seeded.run, "/api/v1/tasks/" + seeded.task,
                    "/api/v1/queues", "/api/v1/workers", "/api/v1/limits", "/api/v1/schedules"]
        return pages + apis
    }

    /// Server time (seconds) of `samples` GETs of each path, through the dashboard's router with
    /// no network in between (Hummingbird's router test mode: the handler, its Redis reads, the
    /// rendering). Paths are interleaved so that a burst of load touches every page alike.
    public static func pageTimes(redis: RedisClient, namespace: String, paths: [String], samples: Int) async throws -> [String: [Double]] {
        let client = JobqClient(engine: try Coordinator(redis: redis, namespace: namespace))
        let router = Router()
        Dashboard(client: client).addRoutes(to: router)
        let times = Times()
        try await Application(router: router).test(.router) { http in
            for _ in 0..<samples {
                for path in paths {
                    let start = ContinuousClock.now
                    let status = try await http.execute(uri: path, method: .get) { $0.status }
                    let elapsed = ContinuousClock.now - start
                    guard status == .ok else { throw JobqError(.internalError, "GET \(path): \(status)") }
                    times.add(path, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                }
            }
        }
        return times.all
    }

    private final class Times: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [String: [Double]] = [:]
        func add(_ path: String, _ value: Double) { lock.withLock { values[path, default: []].append(value) } }
        var all: [String: [Double]] { lock.withLock { values } }
    }
}
