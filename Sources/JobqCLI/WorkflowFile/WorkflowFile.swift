import Foundation
import JobqCore

/// A workflow file (YAML or JSON, jobcontrol-style), checked and turned into task specs.
///
/// ```yaml
/// workflow: nightly
/// defaults: {queue: default, retries: 2, timeout: 5m}
/// tasks:
///   - id: fetch
///     handler: http.get
///     payload: {url: "https://example.com"}
///   - id: parse
///     handler: html.parse
///     after: [fetch]
///     payload: {page: !retval fetch}
/// ```
/// Everything that can be checked without Redis is checked here, and each error names the file,
/// line, column and task. docs/workflow-files.md is the reference.
struct WorkflowFile: Sendable {
    struct Entry: Sendable {
        var spec: TaskSpec
        var line: Int
        /// Where each prerequisite is named.
        var prerequisiteLines: [String: (line: Int, column: Int)]
        var id: String { spec.id ?? "" }
    }

    /// Where the file came from, for messages (`flow.yaml`, `<stdin>`).
    var name: String
    var workflow: String?
    var entries: [Entry]
    /// The run options the file sets (`window`, `deadline`, `fail_fast`, `critical: true` on tasks).
    var window: Int? = nil
    var deadline: RunOptions.Deadline? = nil
    var failFast = false
    var critical: Set<String> = []
    /// `output:` — the task whose result is the run's output (a sub-workflow's result).
    var output: String? = nil
    /// `schedule:` — when `jobq schedule add -f FILE` fires the file (its flags override each
    /// part); `jobq submit -f FILE` refuses a file that has one unless `--once`.
    var schedule: ScheduleBlock? = nil

    /// A file's `schedule:` block, checked when the file is read (each error with its line).
    struct ScheduleBlock: Sendable {
        var name: String?
        var cron: String?
        var tz: String?
        var every: Duration?
        var overlap: Schedule.Overlap?
        var catchUp: Schedule.CatchUp?
        var line: Int
    }

    /// The options of the run this file starts; command-line options are applied on top.
    func runOptions(id: String?, definition: String) -> RunOptions {
        RunOptions(id: id, definition: definition, window: window, deadline: deadline, failFast: failFast, critical: critical, output: output)
    }

    /// Prerequisites named in the file that are not tasks of the file: they must already exist.
    var externalPrerequisites: [(task: String, prerequisite: String, line: Int, column: Int)] {
        let ids = Set(entries.map(\.id))
        return entries.flatMap { entry in
            entry.spec.prerequisites.filter { !ids.contains($0.id) }.map { prerequisite in
                let place = entry.prerequisiteLines[prerequisite.id] ?? (entry.line, 1)
                return (entry.id, prerequisite.id, place.line, place.column)
            }
        }
    }

    /// The graph among the file's tasks.
    var graph: DependencyGraph {
        var graph = DependencyGraph()
        let ids = Set(entries.map(\.id))
        for entry in entries { graph.addNode(entry.id) }
        for entry in entries {
            for prerequisite in entry.spec.prerequisites where ids.contains(prerequisite.id) {
                graph.addEdge(prerequisite: prerequisite.id, dependent: entry.id)
            }
        }
        return graph
    }

    /// What the command line says on top of the file.
    struct Overrides: Sendable {
        var workflow: String?
        var queue: String?
    }

    static let maxFileBytes = 64 << 20

    /// Reads `path` (`-` for stdin) and checks it.
    /// `including`: the files (absolute paths) that include this one as a sub-workflow, outermost
    /// first; one that includes itself, directly or not, is refused (`workflow_cycle`).
    static func load(path: String, overrides: Overrides = Overrides(), limits: Limits = Limits(), including: [String] = []) throws(JobqError) -> WorkflowFile {
        let name = path == "-" ? "<stdin>" : path
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw JobqError(.fileNotFound, "\(path): no such file; give the path of a YAML or JSON workflow file (see docs/workflow-files.md)", subject: path)
            }
            guard !isDirectory.boolValue, let contents = FileManager.default.contents(atPath: path) else {
                throw JobqError(.fileNotFound, "\(path): cannot read it (a directory, or no permission)", subject: path)
            }
            data = contents
        }
        guard data.count <= maxFileBytes else {
            throw JobqError(.invalidWorkflowFile, "\(name): \(data.count) bytes; workflow files may be at most \(maxFileBytes >> 20) MiB")
        }
        return try parse(Array(data), name: name, overrides: overrides, limits: limits, path: path == "-" ? nil : path, including: including)
    }

    /// The absolute, normalised form of `path` (relative to `base`'s directory when relative).
    static func absolute(_ path: String, relativeTo base: String?) -> String {
        let directory = base.map { URL(fileURLWithPath: $0).deletingLastPathComponent() } ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : directory.appendingPathComponent(path)
        return url.standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Parses and checks the text of a workflow file.
    static func parse(
        _ bytes: [UInt8], name: String, overrides: Overrides = Overrides(), limits: Limits = Limits(), maxNodes: Int = DocumentReader.defaultMaxNodes,
        path: String? = nil, including: [String] = []
    ) throws(JobqError) -> WorkflowFile {
        let root: DocumentNode
        do {
            root = try DocumentReader.read(bytes, fileName: name, maxNodes: maxNodes)
        } catch {
            throw located(name, error)
        }
        var decoder = WorkflowFileDecoder(name: name, limits: limits, overrides: overrides, path: path.map { absolute($0, relativeTo: nil) }, including: including)
        do {
            return try decoder.decode(root)
        } catch {
            throw located(name, error)
        }
    }

    static func located(_ name: String, _ error: DocumentError) -> JobqError {
        var place = name
        if let line = error.line, line > 0 {
            place += ":\(line)"
            if let column = error.column, column > 0 { place += ":\(column)" }
        }
        return JobqError(error.code, "\(place): \(error.message)", subject: name)
    }
}
