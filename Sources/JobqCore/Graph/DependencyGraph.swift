/// The `requires` graph of a workflow: which tasks must finish before which.
///
/// Nodes are task ids; an edge `prerequisite -> dependent` means the dependent may not start
/// until the prerequisite is done. Everything is kept in insertion order so that orderings,
/// error messages and DOT output are the same on every run and every machine. Nodes are stored
/// as dense integer indices with adjacency lists, so every traversal is iterative and linear:
/// a submitted workflow is user input, and a 10,000-task chain must not overflow the stack.
public struct DependencyGraph: Sendable, Hashable {
    /// Thrown by ``topologicalOrder()`` when the graph is not a DAG.
    public struct CycleError: Error, Sendable, Hashable, CustomStringConvertible {
        /// One cycle, as a path whose first and last elements are equal (`["a", "b", "a"]`).
        public let cycle: [String]

        public init(cycle: [String]) {
            self.cycle = cycle
        }

        public var description: String {
            "dependency cycle: " + cycle.joined(separator: " -> ")
        }
    }

    /// A directed edge between two node indices; used only to reject duplicate edges.
    private struct Edge: Hashable, Sendable {
        let prerequisite: Int
        let dependent: Int
    }

    /// Every task id, in the order it was first added; unique.
    public private(set) var nodes: [String] = []
    /// Position of each id in `nodes`.
    private var indexByID: [String: Int] = [:]
    /// For each node index, the indices of its prerequisites, in edge insertion order.
    private var prerequisiteIndices: [[Int]] = []
    /// For each node index, the indices of its dependents, in edge insertion order.
    private var dependentIndices: [[Int]] = []
    /// Every edge once, so `addEdge` stays idempotent in O(1).
    private var edges: Set<Edge> = []

    public init() {}

    /// The number of distinct edges.
    public var edgeCount: Int { edges.count }

    /// Whether `id` is a node of the graph.
    public func contains(_ id: String) -> Bool {
        indexByID[id] != nil
    }

    /// Adds `id` as a node; does nothing if it is already present.
    public mutating func addNode(_ id: String) {
        _ = index(adding: id)
    }

    /// Records that `dependent` requires `prerequisite`, adding either node if needed.
    ///
    /// Adding the same edge twice is a no-op, so callers can merge `requires` lists without
    /// deduplicating first. Self-loops are accepted here and reported by ``findCycle()``,
    /// so validation happens in one place.
    public mutating func addEdge(prerequisite: String, dependent: String) {
        let from = index(adding: prerequisite)
        let to = index(adding: dependent)
        guard edges.insert(Edge(prerequisite: from, dependent: to)).inserted else { return }
        prerequisiteIndices[to].append(from)
        dependentIndices[from].append(to)
    }

    /// The tasks `id` requires, in the order the edges were added; empty for unknown ids.
    public func prerequisites(of id: String) -> [String] {
        guard let node = indexByID[id] else { return [] }
        return prerequisiteIndices[node].map { nodes[$0] }
    }

    /// The tasks that require `id`, in the order the edges were added; empty for unknown ids.
    public func dependents(of id: String) -> [String] {
        guard let node = indexByID[id] else { return [] }
        return dependentIndices[node].map { nodes[$0] }
    }

    /// Edges whose prerequisite is not in `known`, as `(dependent, prerequisite)` pairs.
    ///
    /// Used at submission to reject a workflow that requires tasks which exist neither in the
    /// batch nor in the store. Ordered by dependent (insertion order), then by edge order.
    public func prerequisitesMissing(from known: Set<String>) -> [(dependent: String, prerequisite: String)] {
        var missing: [(dependent: String, prerequisite: String)] = []
        for (dependent, prerequisites) in prerequisiteIndices.enumerated() {
            for prerequisite in prerequisites where !known.contains(nodes[prerequisite]) {
                missing.append((dependent: nodes[dependent], prerequisite: nodes[prerequisite]))
            }
        }
        return missing
    }

    /// A cycle if there is one, as a path whose first and last elements are equal.
    ///
    /// `["a", "b", "a"]` means `a -> b -> a`; a self-loop is `["a", "a"]`. Each consecutive pair
    /// is an edge `prerequisite -> dependent`. The search is a depth-first search with an
    /// explicit stack (no recursion, so deep chains cannot overflow the call stack), O(V + E).
    /// Roots are tried in insertion order, so the same graph always reports the same cycle.
    public func findCycle() -> [String]? {
        enum Mark: UInt8 { case unvisited, onPath, finished }
        var marks = [Mark](repeating: .unvisited, count: nodes.count)
        // Each frame is a node on the current path and the next of its dependents to visit.
        var path: [(node: Int, nextChild: Int)] = []

        for root in nodes.indices where marks[root] == .unvisited {
            marks[root] = .onPath
            path.append((root, 0))
            while let (node, nextChild) = path.last {
                let children = dependentIndices[node]
                guard nextChild < children.count else {
                    marks[node] = .finished
                    path.removeLast()
                    continue
                }
                path[path.count - 1].nextChild += 1
                let child = children[nextChild]
                switch marks[child] {
                case .unvisited:
                    marks[child] = .onPath
                    path.append((child, 0))
                case .onPath:
                    // `child` is an ancestor on the current path: the path from it back to
                    // `node`, plus the edge `node -> child`, is a cycle.
                    let start = path.lastIndex { $0.node == child }!
                    return path[start...].map { nodes[$0.node] } + [nodes[child]]
                case .finished:
                    continue
                }
            }
        }
        return nil
    }

    /// Every node, each after all of its prerequisites.
    ///
    /// Kahn's algorithm. Whenever several tasks are ready at once, the one added first comes
    /// first, so the order is deterministic and, for a graph without edges, equals `nodes`.
    /// Honouring that tie-break exactly needs a priority queue, so this is O(E + V log V).
    /// - Throws: ``CycleError`` with one concrete cycle when the graph is not a DAG.
    public func topologicalOrder() throws -> [String] {
        var remainingPrerequisites = prerequisiteIndices.map(\.count)
        var ready = IndexHeap()
        for node in nodes.indices where remainingPrerequisites[node] == 0 {
            ready.insert(node)
        }
        var order: [String] = []
        order.reserveCapacity(nodes.count)
        while let node = ready.popMin() {
            order.append(nodes[node])
            for dependent in dependentIndices[node] {
                remainingPrerequisites[dependent] -= 1
                if remainingPrerequisites[dependent] == 0 {
                    ready.insert(dependent)
                }
            }
        }
        guard order.count == nodes.count else {
            // Kahn left nodes behind, so a cycle exists and the DFS is guaranteed to find one.
            throw CycleError(cycle: findCycle() ?? [])
        }
        return order
    }

    /// The index of `id`, appending it as a new node first if needed.
    private mutating func index(adding id: String) -> Int {
        if let existing = indexByID[id] { return existing }
        let new = nodes.count
        nodes.append(id)
        indexByID[id] = new
        prerequisiteIndices.append([])
        dependentIndices.append([])
        return new
    }
}

/// A binary min-heap of node indices: the ready set of Kahn's algorithm.
///
/// Smaller index means added earlier, so popping the minimum implements the insertion-order
/// tie-break.
private struct IndexHeap {
    private var items: [Int] = []

    mutating func insert(_ item: Int) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Int? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let minimum = items[0]
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return minimum
    }
}
