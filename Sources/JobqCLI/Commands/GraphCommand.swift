import ArgumentParser
import Foundation
import Jobq
import JobqCore

struct GraphCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw a workflow's dependency graph (Graphviz DOT, or SVG/PNG with graphviz).",
        discussion: """
            One node per task, filled with the colour of its state (PENDING grey, RUNNING \
            blue, DONE green, SKIPPED pale green with a dashed border, FAILED red, CANCELLED \
            orange), and an arrow from each prerequisite to its dependent: solid for `success` \
            (runs if it succeeded or was skipped), dashed and labelled "always" for `always` \
            (runs once it has ended), dotted red and labelled "failure" for `failure` (runs \
            only if it failed). A legend box explains them. DOT \
            is printed on stdout; --format svg or png runs graphviz's `dot` (it must be on \
            PATH). A task id draws the task's workflow. --json prints the graph as JSON \
            instead: {"workflow", "nodes": [{id, handler, title, state, skipped}], \
            "edges": [{from, to, policy}]} (state null for a file).

              jobq graph nightly > nightly.dot
              jobq graph nightly --format svg -o nightly.svg
              jobq graph -f flow.yaml --format png -o flow.png    # a file, before submitting
              jobq graph nightly --json | jq '.edges[] | select(.policy == "always")'

            Exit status 69 when --format svg/png is asked for and `dot` is not installed \
            (apt-get install graphviz), 73 when the output file cannot be written.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case dot, svg, png
    }

    @Argument(help: ArgumentHelp("The workflow id (or a task id: its workflow is drawn).", valueName: "workflow"))
    var workflow: String?

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("Draw a workflow file instead (no Redis needed).", valueName: "file"))
    var file: String?

    @Option(name: .long, help: ArgumentHelp("dot (default), svg or png.", valueName: "format"))
    var format: Format = .dot

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write to this file instead of stdout (required for png).", valueName: "path"))
    var output: String?

    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func validate() throws {
        if (workflow == nil) == (file == nil) {
            throw ValidationError("give a workflow id (jobq graph WORKFLOW) or a workflow file (jobq graph -f FILE)")
        }
        if format == .png && output == nil {
            throw ValidationError("--format png needs -o FILE (PNG is binary)")
        }
    }

    /// One task as the graph shows it, from Redis or from a file (no state then).
    struct GraphNode {
        var id: String
        var handler: String
        var title: String
        var state: TaskState?
        var skipped: Bool
        /// DONE from the cache / DONE before a prerequisite ended again (drawn apart).
        var cached: Bool = false
        var outdated: Bool = false
        var attempts: Int
        var maxAttempts: Int
        var prerequisites: [Prerequisite]
    }

    func run() async throws {
        let json = outputOptions.json
        if let file {
            try await CommandRunner.runOffline(json: json) {
                let parsed = try WorkflowFile.load(path: file)
                let nodes = parsed.entries.map { entry in
                    GraphNode(
                        id: entry.id, handler: entry.spec.handler, title: entry.spec.title, state: nil, skipped: false,
                        attempts: 0, maxAttempts: entry.spec.maxAttempts, prerequisites: entry.spec.prerequisites
                    )
                }
                try await emit(name: parsed.workflow ?? "workflow", nodes: nodes, withStates: false)
                return .ok
            }
            return
        }
        try await CommandRunner.run(connection, json: json) { client in
            var name = workflow ?? ""
            if let (run, _) = RunScope.split(name) {
                // A task of a run (RUN/TASK) draws its run; an unknown one is not_found naming the run.
                _ = try await Target.resolve(name, client: client)
                name = run
            } else if try await !client.workflowExists(name), let task = try await client.task(name), let parent = task.workflow {
                name = parent
            }
            let snapshot = try await Snapshot.load(try await Target.resolve(name, client: client, workflowOnly: true), client: client)
            let nodes = snapshot.tasks.map { task in
                GraphNode(
                    id: task.id, handler: task.handler, title: task.title, state: task.state, skipped: task.skipped,
                    cached: task.cached != nil, outdated: task.outdated,
                    attempts: task.attempts, maxAttempts: task.maxAttempts, prerequisites: task.prerequisites
                )
            }
            try await emit(name: name, nodes: nodes, withStates: true)
            return .ok
        }
    }

    /// The graph among `nodes` (prerequisites outside them are left out).
    static func graph(of nodes: [GraphNode]) -> DependencyGraph {
        var graph = DependencyGraph()
        let ids = Set(nodes.map(\.id))
        for node in nodes { graph.addNode(node.id) }
        for node in nodes {
            for prerequisite in node.prerequisites where ids.contains(prerequisite.id) {
                graph.addEdge(prerequisite: prerequisite.id, dependent: node.id)
            }
        }
        return graph
    }

    /// The DOT text: a node per task (its state's fill; skipped tasks paler and dashed, so they
    /// are not read as having run), `always` edges dashed and labelled, and a legend.
    static func dot(name: String, nodes: [GraphNode], withStates: Bool) -> String {
        let byID = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let graph = graph(of: nodes)
        return graph.dot(
            name: name,
            attributes: { id in
                guard let node = byID[id] else { return [:] }
                // a run's own tasks by key, as status and watch name them; the node ids stay full
                var label = RunScope.run(of: id) == name ? RunScope.key(of: id) : id
                if !node.title.isEmpty { label += "\n" + node.title }
                guard withStates else {
                    return ["label": label + "\n" + node.handler, "shape": "box", "style": "rounded"]
                }
                label += "\n" + stateLabel(node.state, skipped: node.skipped)
                if node.state == .done && node.outdated { label += " (OUTDATED)" } else if node.state == .done && node.cached { label += " (cached)" }
                if node.state == .running || node.attempts > 1 { label += " \(node.attempts)/\(node.maxAttempts)" }
                var style = nodeStyle(node.state, skipped: node.skipped)
                if node.state == .done && node.outdated { style = outdatedStyle } else if node.state == .done && node.cached { style = cachedStyle }
                return ["label": label, "shape": "box"].merging(style) { _, new in new }
            },
            edgeAttributes: { from, to in
                let policy = byID[to]?.prerequisites.first { $0.id == from }?.policy ?? .success
                return edgeStyle(policy)
            },
            extraStatements: legend(withStates: withStates)
        )
    }

    /// The state's name (SKIPPED is a state of its own, never drawn as DONE).
    static func stateLabel(_ state: TaskState?, skipped: Bool = false) -> String {
        state?.rawValue ?? "UNKNOWN"
    }

    /// Fill and border of a node with a state: SKIPPED dashed, so it is not read as having run.
    static func nodeStyle(_ state: TaskState?, skipped: Bool = false) -> [String: String] {
        if state == .skipped { return ["style": "rounded,filled,dashed", "fillcolor": fill(state)] }
        return ["style": "rounded,filled", "fillcolor": fill(state)]
    }

    /// How an edge of each policy is drawn: `success` plain, `always` dashed with a label,
    /// `failure` dotted red with a label.
    static func edgeStyle(_ policy: DependencyPolicy) -> [String: String] {
        switch policy {
        case .success: [:]
        case .always: ["style": "dashed", "label": "always"]
        case .failure: ["style": "dotted", "color": "#cb181d", "label": "failure"]
        }
    }

    /// A legend box: the state colours (with states) and the two edge policies. Its node ids
    /// contain ':', which task ids cannot, so they never collide with a task.
    static func legend(withStates: Bool) -> [String] {
        var lines = [
            #"subgraph "cluster_legend" {"#,
            #"  "label"="legend"; "fontsize"="10"; "style"="dashed";"#,
        ]
        var previous: String?
        if withStates {
            let entries: [(String, [String: String])] = TaskState.allCases.map { state in
                (state.rawValue, nodeStyle(state))
            }
            for (label, style) in entries {
                let id = "legend:" + label
                lines.append("  " + DependencyGraph.dotNode(id, ["label": label, "shape": "box", "fontsize": "10"].merging(style) { _, new in new }))
                // Invisible edges keep the legend's boxes in one row.
                if let previous { lines.append("  " + DependencyGraph.dotEdge(previous, id, ["style": "invis"])) }
                previous = id
            }
        }
        for policy in DependencyPolicy.allCases {
            let from = "legend:\(policy.rawValue):from"
            let to = "legend:\(policy.rawValue):to"
            let meaning = switch policy {
            case .success: "success: runs if it succeeded (or was skipped)"
            case .always: "always: runs once it has ended"
            case .failure: "failure: runs only if it failed"
            }
            lines.append("  " + DependencyGraph.dotNode(from, ["label": "", "shape": "point"]))
            lines.append("  " + DependencyGraph.dotNode(to, ["label": meaning, "shape": "plaintext", "fontsize": "10"]))
            lines.append("  " + DependencyGraph.dotEdge(from, to, edgeStyle(policy).merging(["label": ""]) { _, new in new }))
        }
        lines.append("}")
        return lines
    }

    /// `--json`: the graph as data (nodes, then edges), for tools that draw it themselves.
    static func json(name: String, nodes: [GraphNode], withStates: Bool) -> JSONValue {
        let graph = graph(of: nodes)
        let byID = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var edges: [JSONValue] = []
        for id in graph.nodes {
            for dependent in graph.dependents(of: id) {
                let policy = byID[dependent]?.prerequisites.first { $0.id == id }?.policy ?? .success
                edges.append(.object([("from", .string(id)), ("to", .string(dependent)), ("policy", .string(policy.rawValue))]))
            }
        }
        return .object([
            ("workflow", .string(name)),
            ("nodes", .array(nodes.map { node in
                .object([
                    ("id", .string(node.id)),
                    ("handler", .string(node.handler)),
                    ("title", .string(node.title)),
                    ("state", withStates ? .optional(node.state?.rawValue) : .null),
                    ("skipped", .bool(node.skipped)),
                    ("cached", .bool(node.cached)),
                    ("outdated", .bool(node.outdated)),
                ])
            })),
            ("edges", .array(edges)),
        ])
    }

    /// Graphviz fill colours per state.
    static func fill(_ state: TaskState?) -> String {
        switch state {
        case .pending: "#e0e0e0"
        case .running: "#9ecae1"
        case .done: "#a1d99b"
        case .skipped: "#edf8e9"
        case .failed: "#fc9272"
        case .cancelled: "#fdd0a2"
        case nil: "#dadaeb"
        }
    }

    /// An OUTDATED task: DONE green with a thick amber border (its result may be stale).
    static let outdatedStyle = ["style": "rounded,filled,bold", "fillcolor": "#a1d99b", "color": "#e6550d", "penwidth": "3"]
    /// A cached task: DONE green, double-bordered (it took a stored result, it did not run).
    static let cachedStyle = ["style": "rounded,filled", "fillcolor": "#a1d99b", "peripheries": "2"]

    /// A skipped task's fill: a pale DONE green (it ended without running its work).
    static let skippedFill = "#edf8e9"

    /// `--json` with the DOT format: the JSON graph; else the DOT text, printed or rendered.
    private func emit(name: String, nodes: [GraphNode], withStates: Bool) async throws {
        if outputOptions.json && format == .dot {
            try write(Self.json(name: name, nodes: nodes, withStates: withStates).rendered(pretty: output == nil && Terminal.current.isTTY) + "\n")
            return
        }
        try await emit(Self.dot(name: name, nodes: nodes, withStates: withStates))
    }

    /// Text to stdout or to `-o`.
    private func write(_ text: String) throws {
        if let output {
            do {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw JobqError(.cannotWrite, "cannot write \(output): \(error.localizedDescription); check the directory exists and is writable")
            }
        } else {
            Console.raw(text)
        }
    }

    /// Prints or writes the DOT text, or renders it with graphviz.
    private func emit(_ dot: String) async throws {
        if format == .dot {
            try write(dot)
            return
        }
        guard let executable = Subprocess.which("dot") else {
            throw JobqError(.graphvizMissing, "--format \(format.rawValue) needs graphviz's `dot`, which is not on PATH; install graphviz (e.g. apt-get install graphviz), or use --format dot and render it elsewhere")
        }
        let directory = NSTemporaryDirectory() + "jobq-graph-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/graph.dot"
        let log = directory + "/dot.log"
        do {
            try dot.write(toFile: input, atomically: true, encoding: .utf8)
        } catch {
            throw JobqError(.cannotWrite, "cannot write a temporary file in \(NSTemporaryDirectory()): \(error.localizedDescription)")
        }
        let target = output ?? directory + "/graph." + format.rawValue
        let status: Int32
        do {
            status = try await Subprocess.run(executable, ["-T" + format.rawValue, "-o", target, input], outputPath: log)
        } catch {
            throw JobqError(.graphvizMissing, "cannot run \(executable): \(error)")
        }
        guard status == 0 else {
            let message = (try? String(contentsOfFile: log, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let code: JobqError.Code = FileManager.default.isWritableFile(atPath: (target as NSString).deletingLastPathComponent.isEmpty ? "." : (target as NSString).deletingLastPathComponent) ? .internalError : .cannotWrite
            throw JobqError(code, "graphviz dot failed (exit \(status)) writing \(target): \(message)")
        }
        if output == nil, let data = FileManager.default.contents(atPath: target) {
            Console.out(data: Array(data))
        }
    }
}
