import Jobq
import JobqCore
import JobqDashboard
import JobqRedis

/// The dashboard's live parts, public for the benchmarks package only (product
/// `_JobqBenchmarkSupport`, not API): the run graph drawn from tasks already read, and the
/// event hub's fan-out, which a separate package cannot reach through `package` access.
public enum DashboardProbe {
    /// A synthetic run of `layers` × `width` tasks, each depending on two of the layer before
    /// (a crossing-rich shape), in the run graph's input form.
    static func tasks(layers: Int, width: Int) -> [GraphTask] {
        var tasks: [GraphTask] = []
        for layer in 0..<layers {
            for column in 0..<width {
                let after = layer == 0 ? [] : [(column * 7) % width, (column * 13 + 5) % width].map { "r/t\(layer - 1)-\($0)" }
                let state: TaskState = layer < layers / 2 ? .done : (layer == layers / 2 ? .running : .pending)
                tasks.append(GraphTask(id: "r/t\(layer)-\(column)", label: "t\(layer)-\(column)", handler: "step\(layer % 5)", state: state, prerequisites: after))
            }
        }
        return tasks
    }

    /// The run page's graph section (model, layout, SVG) for a synthetic run; what the run page
    /// spends after reading the tasks.
    public static func graphSection(layers: Int, width: Int) -> String {
        RunGraphSection.html(run: "r", tasks: tasks(layers: layers, width: width), query: [:])
    }

    /// The reference: the same graph as `jobq graph`'s DOT text (a graph built, ordered and
    /// printed, no layout).
    public static func graphDOT(layers: Int, width: Int) -> String {
        var graph = DependencyGraph()
        for task in tasks(layers: layers, width: width) {
            graph.addNode(task.id)
            for prerequisite in task.prerequisites { graph.addEdge(prerequisite: prerequisite, dependent: task.id) }
        }
        _ = try? graph.topologicalOrder()
        return graph.dot(name: "r", attributes: { ["label": RunScope.key(of: $0), "shape": "box"] })
    }

    /// The stylesheet rules the graph needs, for a standalone page of it.
    public static var graphCSS: String { RunGraphSection.css }

    /// `subscribers` tabs on one dashboard's hub: each gets every transition of `transitions`
    /// one-task submissions (one stream entry each) and formats it as the `/events` route does.
    /// Returns the events each tab received (they must all be equal to `transitions`).
    public static func fanOut(redis: RedisClient, namespace: String, subscribers: Int, transitions: Int) async throws -> [Int] {
        let client = JobqClient(engine: try Coordinator(redis: redis, namespace: namespace))
        let hub = EventHub(client: client)
        let running = Task { try await hub.run() }
        defer { running.cancel() }
        while !hub.isReading { try await Task.sleep(for: .milliseconds(5)) }
        let filter = try EventFilter(run: nil, task: nil, queue: nil)
        let tabs = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<subscribers {
                let subscription = try await hub.subscribe(filter: filter, after: nil).subscription
                group.addTask {
                    var feed = LiveFeed(filter: filter, after: nil)
                    var received = 0
                    for await message in subscription.messages {
                        guard case .batch(let batch) = message else { continue }
                        received += feed.text(for: batch.records).components(separatedBy: "event: transition").count - 1
                        if received >= transitions { break }
                    }
                    subscription.cancel()
                    return received
                }
            }
            for index in 0..<transitions {
                _ = try await client.submit(TaskSpec(id: "fan-\(index)", handler: "noop"))
            }
            var counts: [Int] = []
            for try await count in group { counts.append(count) }
            return counts
        }
        return tabs
    }

    /// The reference: `followers` readers each with its own `XREAD BLOCK` loop (what a dashboard
    /// without a hub, one reader per tab, would cost), over the same submissions.
    public static func separateReaders(redis: RedisClient, namespace: String, followers: Int, transitions: Int) async throws -> [Int] {
        let client = JobqClient(engine: try Coordinator(redis: redis, namespace: namespace))
        let start = try await client.lastEventID()
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<followers {
                group.addTask {
                    var position = start
                    var received = 0
                    while received < transitions {
                        let (records, next) = try await client.events(after: position, block: .seconds(1))
                        position = next
                        received += records.count
                    }
                    return received
                }
            }
            // Every reader starts at `start`: none misses what is submitted before it first reads.
            for index in 0..<transitions {
                _ = try await client.submit(TaskSpec(id: "sep-\(index)", handler: "noop"))
            }
            var counts: [Int] = []
            for try await count in group { counts.append(count) }
            return counts
        }
    }
}
