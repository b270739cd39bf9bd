import ArgumentParser
import Foundation
import Jobq
import JobqCore
import JobqRedis
import JobqWorker
import JobqTestHandlers
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

@main
struct JobqWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobq-worker",
        abstract: "Run jobq tasks: claim them from Redis, run their handlers, record the outcomes.",
        usage: """
            jobq-worker [--redis <url>] [--namespace <name>] [--queues <a,b>]
                        [--concurrency <n>] [--config <file>] [--once] [<options>]
            """,
        discussion: """
            A worker serves one or more queues of one jobq namespace. It runs up to
            --concurrency handlers at once, keeps their leases alive with heartbeats,
            retries failed tasks per their backoff, and shares the namespace's
            maintenance (reaping tasks of dead workers, promoting due retries). Run
            as many workers, on as many machines, as you like against one Redis.

            HANDLERS
              Command handlers are declared in the --config file: name -> program
              and arguments, environment, working directory, timeout. The task's
              payload goes to the program's stdin (and $JOBQ_PAYLOAD), its
              prerequisites' results to $JOBQ_DEPS_JSON (or the file
              $JOBQ_DEPS_FILE). Its stdout is the result (JSON, or text stored as a
              JSON string), its stderr lines the task's log, its exit status the
              outcome (0 done, skip_exit_code skipped, anything else failed).
              --enable-test-handlers adds jobq.noop, jobq.echo, jobq.sleep,
              jobq.fail, jobq.crash, jobq.progress and jobq.whoami. --allow-task-commands adds
              jobq.exec, which runs the command a task carries: anyone who can
              write to Redis can then run programs on this machine.
              Details: docs/worker.md.

            ENVIRONMENT
              JOBQ_REDIS_URL        Redis URL when --redis is not given
              JOBQ_REDIS_PASSWORD   Redis password (better than one in the URL)
              JOBQ_NAMESPACE        namespace when --namespace is not given
              JOBQ_QUEUES           queues when --queues is not given
              JOBQ_CONCURRENCY      concurrency when --concurrency is not given
              JOBQ_WORKER_CONFIG    config file when --config is not given
              JOBQ_LOG_LEVEL, JOBQ_LOG_FORMAT
              Precedence: flag, environment, the config file's `worker:`
              section, default.

            SIGNALS
              SIGTERM, SIGINT  stop claiming; running tasks get --shutdown-grace
                               to finish, the rest are handed back without
                               charging an attempt; unregister; exit 0.
              a second one     exit at once (status 128+signal), killing command
                               handlers' process groups; the tasks run again
                               once their leases expire.

            EXIT STATUS
              0         stopped on request, or (--once) nothing left to do
              1         fatal: Redis refused the password, metrics port in use
              64        invalid option or config file (the message says which)
              130, 143  stopped by a second SIGINT / SIGTERM

            EXAMPLES
              jobq-worker --config /etc/jobq/worker.yaml --queues images,default
              JOBQ_REDIS_PASSWORD=s3cret jobq-worker --redis redis://redis:6379/0 \
                  --config worker.yaml --concurrency 16 --metrics-port 9464
              jobq-worker --redis unix:///run/redis.sock --enable-test-handlers --once
            """,
        version: "jobq-worker 0.1.0"
    )

    // MARK: Connection

    @Option(name: .long, help: ArgumentHelp(
        "Redis URL: redis://[user@]host[:port][/db] or unix:///path/redis.sock (default: $JOBQ_REDIS_URL, else \(JobqClient.defaultURL)).",
        valueName: "url"))
    var redis: String?

    @Option(name: .customLong("password-file"), help: ArgumentHelp(
        "Read the Redis password from this file (default: $JOBQ_REDIS_PASSWORD). Avoid passwords on the command line: they show in `ps`.",
        valueName: "path"))
    var passwordFile: String?

    @Option(help: ArgumentHelp("The jobq namespace (default: $JOBQ_NAMESPACE, else \"default\").", valueName: "name"))
    var namespace: String?

    // MARK: Work

    @Option(help: ArgumentHelp(
        "Queues to serve, comma-separated, in priority order (strict: a queue is drained before the next), or each with a weight, critical=6,default=3,low=1 (each claim picks the order at random by weight, so every queue gets a share) (default: $JOBQ_QUEUES, else \"default\").", valueName: "a,b"))
    var queues: [String] = []

    @Option(help: ArgumentHelp("Most handlers running at once (default: $JOBQ_CONCURRENCY, else 10; for CPU-bound handlers use the number of cores).", valueName: "n"))
    var concurrency: Int?

    @Option(help: ArgumentHelp("YAML file declaring command handlers and worker settings (default: $JOBQ_WORKER_CONFIG).", valueName: "file"))
    var config: String?

    @Flag(name: .customLong("enable-test-handlers"), help: "Add the test handlers jobq.noop, jobq.echo, jobq.sleep, jobq.fail, jobq.crash, jobq.progress, jobq.whoami.")
    var enableTestHandlers = false

    @Flag(name: .customLong("allow-task-commands"), help: "Add jobq.exec, which runs the command carried by the task. Off by default: it lets anyone who can write to Redis run programs here.")
    var allowTaskCommands = false

    @Flag(help: "Drain mode: exit 0 once the queues are empty and nothing is running or due soon.")
    var once = false

    @Flag(help: "Refuse to start (exit 69) when Redis may lose tasks: an eviction policy other than noeviction, or no persistence. Without it, these are warnings.")
    var strict = false

    // MARK: Timing

    @Option(help: ArgumentHelp("How long a claim stays valid without a heartbeat (default 30s).", valueName: "duration"))
    var lease: String?

    @Option(help: ArgumentHelp("How often leases are extended and cancellations learned; at most lease/3 (default 10s).", valueName: "duration"))
    var heartbeat: String?

    @Option(name: .customLong("shutdown-grace"), help: ArgumentHelp("On SIGTERM, how long running tasks may finish before they are handed back (default 30s).", valueName: "duration"))
    var shutdownGrace: String?

    @Option(name: .customLong("stop-timeout"), help: ArgumentHelp("How long a cancelled or timed-out handler may take to stop before its outcome is recorded anyway (default 5s).", valueName: "duration"))
    var stopTimeout: String?

    @Option(name: .customLong("maintenance-interval"), help: ArgumentHelp("How often the fleet reaps expired leases, promotes due retries and fires due schedules (default 1s).", valueName: "duration"))
    var maintenanceInterval: String?

    // MARK: Operations

    @Option(name: .customLong("worker-id"), help: ArgumentHelp("Id to register under (default: host-pid-random).", valueName: "id"))
    var workerID: String?

    @Option(name: .customLong("metrics-port"), help: ArgumentHelp("Serve Prometheus metrics at http://<address>:<port>/metrics (and /healthz); 0 picks a free port.", valueName: "port"))
    var metricsPort: Int?

    @Option(name: .customLong("metrics-address"), help: ArgumentHelp("Address for the metrics endpoint (default 0.0.0.0).", valueName: "ip"))
    var metricsAddress: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default info).", valueName: "level"))
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: ArgumentHelp("text (key=value) or json, one line per event on stderr (default text).", valueName: "format"))
    var logFormat: String?

    // MARK: Validation

    /// Everything resolved from flags, environment, config file and defaults.
    struct Settings {
        var redisURL: String
        var password: String?
        /// Where the URL and the password came from, for messages about refused credentials.
        var urlSource: String
        var passwordSource: String?
        var namespace: String
        var worker: WorkerConfiguration
        var registry: HandlerRegistry
        var metricsPort: Int?
        var metricsAddress: String
        var logLevel: Logger.Level
        var logFormat: StderrLogHandler.Format
        var commandHandlers: [String]
        var warnings: [String]
    }

    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
        func fail(_ message: String) -> ValidationError { ValidationError(message) }
        var warnings: [String] = []

        let configPath = config ?? environment["JOBQ_WORKER_CONFIG"]
        var file = ConfigFile()
        if let configPath {
            do {
                file = try ConfigFile.load(path: configPath)
            } catch {
                throw fail(error.description)
            }
        }

        func duration(_ flag: String?, _ fromFile: Duration?, _ name: String, default value: Duration) throws -> Duration {
            guard let flag else { return fromFile ?? value }
            do {
                return try DurationText.parse(flag, setting: "--\(name)")
            } catch {
                throw fail(error.message)
            }
        }

        // Connection. Messages name the setting each value came from.
        var redisURL = JobqClient.defaultURL
        var urlSource = "the default URL \(JobqClient.defaultURL)"
        if let redis {
            (redisURL, urlSource) = (redis, "--redis")
            if let parsed = try? RedisConfiguration(url: redis), parsed.password != nil {
                warnings.append("the Redis password is part of --redis and visible to every user of this machine (ps); use --password-file or JOBQ_REDIS_PASSWORD instead")
            }
        } else if let url = environment["JOBQ_REDIS_URL"], !url.isEmpty {
            (redisURL, urlSource) = (url, "JOBQ_REDIS_URL")
        } else if let url = file.worker.redis {
            (redisURL, urlSource) = (url, "worker.redis in \(configPath ?? "the config file")")
        }
        let urlPassword: String?
        do {
            urlPassword = try RedisConfiguration(url: redisURL).password
        } catch let error as RedisError {
            throw fail("\(urlSource): \(error.message)")
        }
        var password: String?
        var passwordSource: String?
        if let path = passwordFile ?? file.worker.passwordFile {
            let setting = passwordFile != nil ? "--password-file" : "worker.password_file in \(configPath ?? "the config file")"
            do {
                password = try PasswordFile.read(path, setting: setting)
            } catch {
                throw fail(error.message)
            }
            passwordSource = "\(setting) \(path)"
        } else if let value = environment["JOBQ_REDIS_PASSWORD"], !value.isEmpty {
            (password, passwordSource) = (value, "JOBQ_REDIS_PASSWORD")
        } else if urlPassword != nil {
            passwordSource = "the URL (\(urlSource))"
        }

        let namespace = namespace ?? environment["JOBQ_NAMESPACE"] ?? file.worker.namespace ?? "default"
        do {
            try Validation.check(name: namespace, as: .namespace)
        } catch {
            throw fail("--namespace: \(error.message)")
        }

        // Work.
        var queueList = queues.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
        if queueList.isEmpty, let value = environment["JOBQ_QUEUES"] {
            queueList = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if queueList.isEmpty { queueList = file.worker.queues ?? [TaskSpec.defaultQueue] }

        var concurrencyValue = concurrency ?? file.worker.concurrency ?? WorkerConfiguration.defaultConcurrency
        if concurrency == nil, let value = environment["JOBQ_CONCURRENCY"] {
            guard let parsed = Int(value) else { throw fail("JOBQ_CONCURRENCY \"\(value)\" is not a number") }
            concurrencyValue = parsed
        }

        let parsedQueues: (queues: [String], weights: [String: Int])
        do {
            parsedQueues = try QueueOrder.parse(queueList)
        } catch {
            throw fail("--queues: \(error.message)")
        }
        var worker = WorkerConfiguration(queues: parsedQueues.queues, concurrency: concurrencyValue, workerID: workerID)
        worker.queueWeights = parsedQueues.weights
        worker.lease = try duration(lease, file.worker.lease, "lease", default: worker.lease)
        worker.heartbeat = try duration(heartbeat, file.worker.heartbeat, "heartbeat", default: min(worker.heartbeat, worker.lease / 3))
        worker.shutdownGrace = try duration(shutdownGrace, file.worker.shutdownGrace, "shutdown-grace", default: worker.shutdownGrace)
        worker.stopTimeout = try duration(stopTimeout, file.worker.stopTimeout, "stop-timeout", default: worker.stopTimeout)
        worker.maintenanceInterval = try duration(maintenanceInterval, file.worker.maintenanceInterval, "maintenance-interval", default: worker.maintenanceInterval)
        worker.exitWhenDrained = once
        do {
            try worker.validate()
        } catch {
            throw fail(Self.optionMessage(error.message))
        }

        // Handlers.
        var registry = HandlerRegistry()
        for (name, configuration) in file.handlers {
            registry.register(name, command: configuration)
        }
        if enableTestHandlers { registry.registerTestHandlers() }
        if allowTaskCommands { registry.registerTaskCommandHandler() }
        guard !registry.names.isEmpty else {
            throw fail("no handlers to run: declare command handlers in a --config file, or pass --enable-test-handlers to try jobq out")
        }
        for name in registry.names {
            do {
                try Validation.check(name: name, as: .handler)
            } catch {
                throw fail("handler \(name): \(error.message)")
            }
        }

        // Operations.
        let port = metricsPort ?? file.worker.metricsPort
        if let port, !(0...65535).contains(port) {
            throw fail("--metrics-port must be between 0 and 65535; got \(port)")
        }
        let levelText = logLevel ?? environment["JOBQ_LOG_LEVEL"] ?? file.worker.logLevel ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw fail("--log-level \"\(levelText)\" is not one of: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let formatText = logFormat ?? environment["JOBQ_LOG_FORMAT"] ?? file.worker.logFormat ?? "text"
        guard let format = StderrLogHandler.Format(rawValue: formatText.lowercased()) else {
            throw fail("--log-format \"\(formatText)\" is not one of: text, json")
        }

        return Settings(
            redisURL: redisURL, password: password, urlSource: urlSource, passwordSource: passwordSource, namespace: namespace, worker: worker, registry: registry,
            metricsPort: port, metricsAddress: metricsAddress ?? file.worker.metricsAddress ?? "0.0.0.0",
            logLevel: level, logFormat: format, commandHandlers: file.handlers.map(\.name), warnings: warnings
        )
    }

    /// Library messages name settings; point at the flags an operator would change.
    static func optionMessage(_ message: String) -> String {
        message
            .replacingOccurrences(of: "lower the heartbeat or raise the lease", with: "lower --heartbeat or raise --lease")
            .replacingOccurrences(of: "shutdown grace", with: "--shutdown-grace")
            .replacingOccurrences(of: "stop timeout", with: "--stop-timeout")
            .replacingOccurrences(of: "maintenance interval", with: "--maintenance-interval")
    }

    // MARK: Running

    func run() async throws {
        let settings = try resolve()
        let level = settings.logLevel
        let format = settings.logFormat
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, format: format, level: level) }
        let logger = Logger(label: "jobq.worker")
        for warning in settings.warnings { logger.warning("\(warning)") }

        var redisConfiguration = try RedisConfiguration(url: settings.redisURL)
        if let password = settings.password { redisConfiguration.password = password }
        let redis = RedisClient(configuration: redisConfiguration)
        let coordinator = try Coordinator(redis: redis, namespace: settings.namespace)

        // Metrics before the worker exists: swift-metrics binds each metric at creation.
        let metricsRegistry = PrometheusCollectorRegistry()
        if settings.metricsPort != nil {
            var factory = PrometheusMetricsFactory(registry: metricsRegistry)
            factory.defaultDurationHistogramBuckets = [
                .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(900),
            ]
            let counts: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000]
            factory.valueHistogramBuckets["jobq_worker_claim_batch_size"] = counts
            factory.valueHistogramBuckets["jobq_worker_ack_batch_size"] = counts
            MetricsSystem.bootstrap(factory)
        }

        let worker = try Worker(store: coordinator, registry: settings.registry, configuration: settings.worker, logger: logger)

        if let port = settings.metricsPort {
            do {
                let server = try MetricsServer(address: settings.metricsAddress, port: port, registry: metricsRegistry) { [worker] in
                    !worker.isStopping
                }
                server.start()
                logger.info("serving metrics", metadata: ["metrics_port": .stringConvertible(server.port), "address": .string(settings.metricsAddress)])
            } catch {
                logger.critical("\(error)")
                throw ExitCode.failure
            }
        }

        // Check the connection once: a refused password is fatal, an absent server is not (the
        // worker keeps trying, like it does when Redis goes away later).
        do {
            try await redis.connect()
        } catch let error as RedisError where error.code == .authenticationFailed {
            let explained = JobqError(translating: error, doing: "connect")
                .explainingCredentials(passwordSource: settings.passwordSource, urlSource: settings.urlSource)
            logger.critical("\(explained.message)", metadata: ["code": .string(explained.code.rawValue)])
            throw ExitCode.failure
        } catch {
            logger.warning("Redis is not reachable yet; the worker keeps trying", metadata: ["error": .string("\(error)")])
        }

        // Settings that can lose tasks: warn, or with --strict refuse to start.
        do {
            let check = try await coordinator.inspector.checkServer()
            for warning in check.warnings { logger.warning("\(warning.message)", metadata: ["check": .string("\(warning.code)")]) }
            for note in check.notes { logger.notice("\(note.message)", metadata: ["check": .string("\(note.code)")]) }
            if strict { try check.requireSafe() }
        } catch where error.code == .unsafeRedis {
            logger.critical("\(error.message)")
            throw ExitCode(69)
        } catch {
            if strict {
                logger.critical("--strict: cannot check the Redis settings: \(error)")
                throw ExitCode(69)
            }
            logger.warning("cannot check the Redis settings", metadata: ["error": .string("\(error)")])
        }

        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
            logger: logger
        ))
        let grace = DurationText.format(settings.worker.shutdownGrace)
        SignalHandling.install([SIGTERM, SIGINT]) { signal, count in
            if count == 1 {
                logger.notice("received \(SignalHandling.name(signal)): shutting down gracefully; send it again to exit at once", metadata: ["grace": .string(grace)])
                Task { await group.triggerGracefulShutdown() }
            } else {
                logger.critical("received \(SignalHandling.name(signal)) again: exiting now; this worker's running tasks run again once their leases expire")
                worker.killRunningCommands()
                _exit(128 + signal)
            }
        }
        try await group.run()
        await redis.close()
    }
}
