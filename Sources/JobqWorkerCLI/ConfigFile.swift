import Foundation
import JobqCore
import JobqWorker
import Yams

/// The `--config` file (YAML): worker settings and command handlers.
///
/// ```yaml
/// worker:                       # all optional; flags and JOBQ_* variables take precedence
///   redis: redis://redis:6379
///   password_file: /run/secrets/redis-password
///   namespace: default
///   queues: [default, images]
///   concurrency: 8
///   lease: 30s
///   heartbeat: 10s
///   shutdown_grace: 30s
///   stop_timeout: 5s
///   maintenance_interval: 1s
///   metrics_port: 9464
///   metrics_address: 0.0.0.0
///   log_level: info
///   log_format: json
/// handlers:
///   resize:
///     command: ["/usr/local/bin/resize", "--task", "{task_id}"]
///     env: {QUALITY: "85"}
///     inherit_env: false
///     working_dir: /srv/images
///     timeout: 5m
///     kill_grace: 10s
///     skip_exit_code: 3
///     final_exit_codes: [2, 64]
///     max_output_bytes: 1048576
///   send-mail:
///     command: ["/usr/bin/python3", "/srv/send_batch.py"]
///     batch: {max: 100, wait: 200ms, key: "{payload.tenant}"}   # one process per batch
/// ```
///
/// Unknown keys are errors (a typo must not silently drop a setting).
struct ConfigFile {
    struct WorkerSection {
        var redis: String?
        var passwordFile: String?
        var namespace: String?
        var queues: [String]?
        var concurrency: Int?
        var lease: Duration?
        var heartbeat: Duration?
        var shutdownGrace: Duration?
        var stopTimeout: Duration?
        var maintenanceInterval: Duration?
        var metricsPort: Int?
        var metricsAddress: String?
        var logLevel: String?
        var logFormat: String?
    }

    var worker = WorkerSection()
    var handlers: [(name: String, configuration: CommandHandlerConfiguration)] = []

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    static func load(path: String) throws(Problem) -> ConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Problem(description: "cannot read config file \(path): \((error as NSError).localizedDescription)")
        }
        return try parse(text, source: path)
    }

    static func parse(_ text: String, source: String) throws(Problem) -> ConfigFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw Problem(description: "\(source): not valid YAML: \(error)")
        }
        var config = ConfigFile()
        guard let root else { return config }
        let reader = Reader(source: source)
        let top = try reader.mapping(root, "the top level", allowed: ["worker", "handlers"])
        if let worker = top["worker"] {
            config.worker = try reader.workerSection(worker)
        }
        if let handlers = top["handlers"] {
            guard let mapping = handlers.mapping else {
                throw reader.problem(handlers, "`handlers` must map handler names to their settings")
            }
            for (key, value) in mapping {
                guard let name = key.string, !name.isEmpty else { throw reader.problem(key, "handler names must be strings") }
                config.handlers.append((name, try reader.handler(value, name: name)))
            }
        }
        return config
    }

    /// Reads nodes with error messages that name the file, line and setting.
    private struct Reader {
        let source: String

        func problem(_ node: Node, _ message: String) -> Problem {
            let line = node.mark.map { ":\($0.line)" } ?? ""
            return Problem(description: "\(source)\(line): \(message)")
        }

        func mapping(_ node: Node, _ what: String, allowed: [String]) throws(Problem) -> [String: Node] {
            guard let mapping = node.mapping else { throw problem(node, "\(what) must be a mapping of settings") }
            var out: [String: Node] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw problem(key, "\(what): setting names must be strings") }
                guard allowed.contains(name) else {
                    let hint = allowed.min { distance($0, name) < distance($1, name) }.map { " (did you mean `\($0)`?)" } ?? ""
                    throw problem(key, "\(what): unknown setting `\(name)`\(hint); allowed: \(allowed.joined(separator: ", "))")
                }
                out[name] = value
            }
            return out
        }

        func string(_ node: Node, _ what: String) throws(Problem) -> String {
            guard let scalar = node.scalar else { throw problem(node, "\(what) must be a string") }
            return scalar.string
        }

        func int(_ node: Node, _ what: String) throws(Problem) -> Int {
            guard let value = node.int else { throw problem(node, "\(what) must be a whole number") }
            return value
        }

        func bool(_ node: Node, _ what: String) throws(Problem) -> Bool {
            guard let value = node.bool else { throw problem(node, "\(what) must be true or false") }
            return value
        }

        func duration(_ node: Node, _ what: String) throws(Problem) -> Duration {
            let text = try string(node, what)
            do {
                return try DurationText.parse(text, setting: what)
            } catch {
                throw problem(node, error.message)
            }
        }

        func strings(_ node: Node, _ what: String) throws(Problem) -> [String] {
            if let scalar = node.scalar {
                return scalar.string.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            guard let sequence = node.sequence else { throw problem(node, "\(what) must be a list of strings") }
            var out: [String] = []
            for item in sequence { out.append(try string(item, what)) }
            return out
        }

        func workerSection(_ node: Node) throws(Problem) -> WorkerSection {
            let fields = try mapping(node, "worker", allowed: [
                "redis", "password_file", "namespace", "queues", "concurrency", "lease", "heartbeat", "shutdown_grace",
                "stop_timeout", "maintenance_interval", "metrics_port", "metrics_address", "log_level", "log_format",
            ])
            var section = WorkerSection()
            if let node = fields["redis"] { section.redis = try string(node, "worker.redis") }
            if let node = fields["password_file"] { section.passwordFile = try string(node, "worker.password_file") }
            if let node = fields["namespace"] { section.namespace = try string(node, "worker.namespace") }
            if let node = fields["queues"] { section.queues = try strings(node, "worker.queues") }
            if let node = fields["concurrency"] { section.concurrency = try int(node, "worker.concurrency") }
            if let node = fields["lease"] { section.lease = try duration(node, "worker.lease") }
            if let node = fields["heartbeat"] { section.heartbeat = try duration(node, "worker.heartbeat") }
            if let node = fields["shutdown_grace"] { section.shutdownGrace = try duration(node, "worker.shutdown_grace") }
            if let node = fields["stop_timeout"] { section.stopTimeout = try duration(node, "worker.stop_timeout") }
            if let node = fields["maintenance_interval"] { section.maintenanceInterval = try duration(node, "worker.maintenance_interval") }
            if let node = fields["metrics_port"] { section.metricsPort = try int(node, "worker.metrics_port") }
            if let node = fields["metrics_address"] { section.metricsAddress = try string(node, "worker.metrics_address") }
            if let node = fields["log_level"] { section.logLevel = try string(node, "worker.log_level") }
            if let node = fields["log_format"] { section.logFormat = try string(node, "worker.log_format") }
            return section
        }

        func handler(_ node: Node, name: String) throws(Problem) -> CommandHandlerConfiguration {
            let what = "handlers.\(name)"
            let fields = try mapping(node, what, allowed: [
                "command", "env", "inherit_env", "working_dir", "timeout", "kill_grace", "skip_exit_code",
                "final_exit_codes", "max_output_bytes", "batch",
            ])
            guard let commandNode = fields["command"] else {
                throw problem(node, "\(what): `command` is required: the program and its arguments as a list, e.g. [\"/usr/bin/python3\", \"resize.py\"]")
            }
            guard commandNode.sequence != nil else {
                throw problem(commandNode, "\(what).command must be a list (the program, then each argument; no shell is involved)")
            }
            var configuration = CommandHandlerConfiguration(command: try strings(commandNode, "\(what).command"))
            if let envNode = fields["env"] {
                guard let mapping = envNode.mapping else { throw problem(envNode, "\(what).env must map variable names to values") }
                for (key, value) in mapping {
                    let variable = try string(key, "\(what).env")
                    configuration.environment[variable] = try string(value, "\(what).env.\(variable)")
                }
            }
            if let node = fields["inherit_env"] { configuration.inheritEnvironment = try bool(node, "\(what).inherit_env") }
            if let node = fields["working_dir"] { configuration.workingDirectory = try string(node, "\(what).working_dir") }
            if let node = fields["timeout"] { configuration.timeout = try duration(node, "\(what).timeout") }
            if let node = fields["kill_grace"] { configuration.killGrace = try duration(node, "\(what).kill_grace") }
            if let node = fields["skip_exit_code"] { configuration.skipExitCode = Int32(clamping: try int(node, "\(what).skip_exit_code")) }
            if let node = fields["final_exit_codes"] {
                guard let sequence = node.sequence else { throw problem(node, "\(what).final_exit_codes must be a list of numbers") }
                for item in sequence { configuration.finalExitCodes.insert(Int32(clamping: try int(item, "\(what).final_exit_codes"))) }
            }
            if let node = fields["max_output_bytes"] {
                let value = try int(node, "\(what).max_output_bytes")
                guard value > 0 else { throw problem(node, "\(what).max_output_bytes must be positive") }
                configuration.maxOutputBytes = value
            }
            if let node = fields["batch"] { configuration.batch = try batch(node, "\(what).batch") }
            do {
                try configuration.validate(name: name)
            } catch {
                throw problem(node, error.message)
            }
            return configuration
        }

        /// `batch: {max: 100, wait: 200ms, key: "{payload.tenant}"}`; `max` is required.
        func batch(_ node: Node, _ what: String) throws(Problem) -> BatchSettings {
            let fields = try mapping(node, what, allowed: ["max", "wait", "key"])
            guard let maxNode = fields["max"] else {
                throw problem(node, "\(what): `max` is required: the most tasks one process gets, e.g. {max: 100, wait: 200ms}")
            }
            var settings = BatchSettings(max: try int(maxNode, "\(what).max"))
            if let node = fields["wait"] { settings.wait = try duration(node, "\(what).wait") }
            if let node = fields["key"] { settings.key = try string(node, "\(what).key") }
            return settings
        }

        /// Edit distance, for "did you mean".
        private func distance(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            var previous = Array(0...b.count)
            for (i, x) in a.enumerated() {
                var current = [i + 1] + Array(repeating: 0, count: b.count)
                for (j, y) in b.enumerated() {
                    current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
                }
                previous = current
            }
            return previous[b.count]
        }
    }
}
