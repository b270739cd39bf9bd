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
            blue, DONE green, FAILED red, CANCELLED orange), and an arrow from each \
            prerequisite to its dependent. DOT is printed on stdout; --format svg or png runs \
            graphviz's `dot` (it must be on PATH). A task id draws the task's workflow.

              jobq graph nightly > nightly.dot
              jobq graph nightly --format svg -o nightly.svg
              jobq graph -f flow.yaml --format png -o flow.png    # a file, before submitting

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

    func run() async throws {
        let json = outputOptions.json
        if let file {
            try await CommandRunner.runOffline(json: json) {
                let parsed = try WorkflowFile.load(path: file)
                let name = parsed.workflow ?? "workflow"
                let handlers = Dictionary(parsed.entries.map { ($0.id, $0.spec) }, uniquingKeysWith: { first, _ in first })
                let dot = parsed.graph.dot(name: name) { id in
                    let spec = handlers[id]
                    var label = id
                    if let title = spec?.title, !title.isEmpty { label += "\n" + title }
                    label += "\n" + (spec?.handler ?? "")
                    return ["label": label, "shape": "box", "style": "rounded"]
                }
                try await emit(dot)
                return .ok
            }
            return
        }
        try await CommandRunner.run(connection, json: json) { client in
            var name = workflow ?? ""
            if try await !client.workflowExists(name), let task = try await client.task(name), let parent = task.workflow {
                name = parent
            }
            let snapshot = try await Snapshot.load(try await Target.resolve(name, client: client, workflowOnly: true), client: client)
            var graph = DependencyGraph()
            let ids = snapshot.ids
            for task in snapshot.tasks { graph.addNode(task.id) }
            for task in snapshot.tasks {
                for prerequisite in task.prerequisites where ids.contains(prerequisite.id) {
                    graph.addEdge(prerequisite: prerequisite.id, dependent: task.id)
                }
            }
            let byID = Dictionary(snapshot.tasks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            let dot = graph.dot(name: name) { id in
                guard let task = byID[id] else { return [:] }
                var label = id
                if !task.title.isEmpty { label += "\n" + task.title }
                label += "\n" + (task.state?.rawValue ?? "UNKNOWN")
                if task.state == .running || task.attempts > 1 { label += " \(task.attempts)/\(task.maxAttempts)" }
                return ["label": label, "shape": "box", "style": "rounded,filled", "fillcolor": Self.fill(task.state)]
            }
            try await emit(dot)
            return .ok
        }
    }

    /// Graphviz fill colours per state.
    static func fill(_ state: TaskState?) -> String {
        switch state {
        case .pending: "#e0e0e0"
        case .running: "#9ecae1"
        case .done: "#a1d99b"
        case .failed: "#fc9272"
        case .cancelled: "#fdd0a2"
        case nil: "#dadaeb"
        }
    }

    /// Prints or writes the DOT text, or renders it with graphviz.
    private func emit(_ dot: String) async throws {
        if format == .dot {
            if let output {
                do {
                    try dot.write(toFile: output, atomically: true, encoding: .utf8)
                } catch {
                    throw JobqError(.cannotWrite, "cannot write \(output): \(error.localizedDescription); check the directory exists and is writable")
                }
            } else {
                Console.raw(dot)
            }
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
            FileHandle.standardOutput.write(data)
        }
    }
}
