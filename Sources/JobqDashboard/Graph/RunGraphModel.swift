import JobqCore

/// One task as the run graph needs it: nothing else is read or kept.
package struct GraphTask: Sendable, Equatable {
    package var id: String
    /// What the node says: the task's key within its run.
    package var label: String
    /// What tasks are collapsed by in a big run.
    package var handler: String
    package var state: TaskState?
    package var prerequisites: [String]
    /// The prerequisite whose failure took this task down (CANCELLED `dependency_failed`).
    package var cause: String?

    package init(id: String, label: String, handler: String, state: TaskState?, prerequisites: [String], cause: String? = nil) {
        self.id = id
        self.label = label
        self.handler = handler
        self.state = state
        self.prerequisites = prerequisites
        self.cause = cause
    }
}

/// What the run graph shows: the tasks (or, past ``threshold`` nodes, groups of tasks with one
/// handler, but those named in `expand`), restricted to the ancestors or descendants of one task
/// when focused, and the edges among them, those along which a failure spread marked.
///
/// Pure (no Redis, no HTML): built from ``GraphTask``s, laid out by ``GraphLayout``, drawn by
/// ``RunGraphSVG``.
package struct RunGraphModel: Sendable {
    package enum Direction: String, Sendable {
        /// The task and everything it depends on.
        case up
        /// The task and everything that depends on it.
        case down
    }

    package struct Node: Sendable, Equatable {
        /// The task id; for a group, its handler.
        package var id: String
        package var label: String
        /// The state the node is drawn in (a group: the most telling of its tasks').
        package var state: String
        /// `nil` for a task; the handler for a collapsed group.
        package var group: String?
        /// Tasks behind the node (1 for a task).
        package var count: Int
    }

    package struct Edge: Sendable, Hashable {
        package var from: Int
        package var to: Int
        /// A failure travelled along it: the dependent was cancelled because this prerequisite
        /// failed (or was itself taken down).
        package var failedPath: Bool
    }

    /// Above this many nodes a graph is collapsed by handler (2,000 paint in well under a second).
    package static let defaultThreshold = 2_000

    package private(set) var nodes: [Node] = []
    package private(set) var edges: [Edge] = []
    /// Tasks in the run (before focusing and collapsing).
    package let taskCount: Int
    /// The handlers drawn as one node each.
    package private(set) var collapsed: [String] = []
    /// The focused task and direction, when the focus task exists.
    package private(set) var focus: (id: String, direction: Direction)?

    package init(tasks: [GraphTask], threshold: Int = RunGraphModel.defaultThreshold, expand: Set<String> = [], focus: String? = nil, direction: Direction = .up) {
        taskCount = tasks.count
        var shown = tasks
        let index = Dictionary(tasks.enumerated().map { ($1.id, $0) }) { first, _ in first }
        if let focus, let start = index[focus] {
            self.focus = (focus, direction)
            let kept = Self.reachable(from: start, tasks: tasks, index: index, direction: direction)
            shown = tasks.indices.filter { kept.contains($0) }.map { tasks[$0] }
        }

        // Which node each shown task is drawn as.
        var groups: [String: Int] = [:]
        var nodeOf: [String: Int] = [:]
        var members: [String: Int] = [:]
        if shown.count > threshold {
            for task in shown { members[task.handler, default: 0] += 1 }
        }
        for task in shown {
            if shown.count > threshold, !expand.contains(task.handler), (members[task.handler] ?? 0) > 1 {
                if let group = groups[task.handler] {
                    nodes[group].count += 1
                    nodes[group].state = Self.telling(nodes[group].state, task.state)
                    nodeOf[task.id] = group
                } else {
                    groups[task.handler] = nodes.count
                    nodeOf[task.id] = nodes.count
                    collapsed.append(task.handler)
                    nodes.append(Node(id: task.handler, label: task.handler, state: Self.name(task.state), group: task.handler, count: 1))
                }
            } else {
                nodeOf[task.id] = nodes.count
                nodes.append(Node(id: task.id, label: task.label, state: Self.name(task.state), group: nil, count: 1))
            }
        }
        for group in groups.values { nodes[group].label = "\(nodes[group].id) ×\(nodes[group].count)" }

        var seen: [Int64: Int] = [:]
        for task in shown {
            guard let to = nodeOf[task.id] else { continue }
            for prerequisite in task.prerequisites {
                guard let from = nodeOf[prerequisite], from != to else { continue }
                let failed = task.cause == prerequisite && task.state == .cancelled
                let key = Int64(from) << 32 | Int64(to)
                if let existing = seen[key] {
                    if failed { edges[existing].failedPath = true }
                } else {
                    seen[key] = edges.count
                    edges.append(Edge(from: from, to: to, failedPath: failed))
                }
            }
        }
    }

    /// `start` and every task reachable from it along prerequisites (`up`) or dependents.
    static func reachable(from start: Int, tasks: [GraphTask], index: [String: Int], direction: Direction) -> Set<Int> {
        var dependents: [[Int]] = []
        if direction == .down {
            dependents = Array(repeating: [], count: tasks.count)
            for (node, task) in tasks.enumerated() {
                for prerequisite in task.prerequisites { if let from = index[prerequisite] { dependents[from].append(node) } }
            }
        }
        var kept: Set<Int> = [start]
        var stack = [start]
        while let node = stack.popLast() {
            let next = direction == .up ? tasks[node].prerequisites.compactMap { index[$0] } : dependents[node]
            for other in next where kept.insert(other).inserted { stack.append(other) }
        }
        return kept
    }

    static func name(_ state: TaskState?) -> String { state?.rawValue ?? "UNKNOWN" }

    /// The state a group is drawn in: a failure first, then work in progress, then waiting work,
    /// then how the rest ended.
    static func telling(_ current: String, _ state: TaskState?) -> String {
        let order = ["FAILED", "RUNNING", "PENDING", "CANCELLED", "UNKNOWN", "SKIPPED", "DONE"]
        let candidate = name(state)
        return (order.firstIndex(of: candidate) ?? order.count) < (order.firstIndex(of: current) ?? order.count) ? candidate : current
    }
}
