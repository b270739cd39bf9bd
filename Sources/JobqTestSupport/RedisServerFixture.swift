import Foundation
import JobqRedis
import Synchronization

/// A real `redis-server` for tests and benchmarks, on a Unix socket in a fresh temp directory.
///
/// ```swift
/// try await withRedisServer { server in
///     let client = server.makeClient()
///     defer { Task { await client.close() } }
///     …
/// }
/// ```
/// Most tests share one server per process (``shared()``) and a fresh key namespace
/// (``uniqueNamespace()``); never FLUSHALL. Tests that restart, kill or reconfigure a server
/// start a private one with ``start(extraConfig:)`` / ``withRedisServer(extraConfig:_:)``.
public final class RedisServerFixture: Sendable {
    /// The temp directory holding the socket, config, log (and AOF, if enabled).
    public let directory: String
    public let socketPath: String
    /// Extra `redis.conf` lines this server was started with.
    public let extraConfig: [String]
    private let process: Mutex<ChildProcess?>

    /// A configuration for this server's socket (no credentials), with short timeouts for tests.
    public var configuration: RedisConfiguration {
        var configuration = RedisConfiguration(endpoint: .unix(path: socketPath))
        configuration.connectTimeout = .seconds(1)
        configuration.reconnectWindow = .seconds(3)
        return configuration
    }

    /// `unix:///…/redis.sock`.
    public var url: String { "unix://\(socketPath)" }

    /// The PID of the running redis-server, if any.
    public var pid: Int32? {
        process.withLock { $0?.isRunning == true ? $0?.pid : nil }
    }

    private init(directory: String, extraConfig: [String]) {
        self.directory = directory
        self.socketPath = directory + "/redis.sock"
        self.extraConfig = extraConfig
        self.process = Mutex(nil)
    }

    // MARK: Availability

    /// The `redis-server` to run: `$REDIS_SERVER`, else the first on `PATH`.
    public static var serverExecutable: String? {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["REDIS_SERVER"], FileManager.default.isExecutableFile(atPath: explicit) {
            return explicit
        }
        for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Whether `CI=true`: then a missing redis-server fails the tests instead of skipping them.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether redis tests should run: redis-server is installed, or this is CI (where its
    /// absence must fail loudly). Use as `@Test(.enabled(if: RedisServerFixture.shouldRun))`.
    public static var shouldRun: Bool { serverExecutable != nil || isCI }

    // MARK: Lifecycle

    /// Starts a private redis-server and waits (bounded) until it answers PING.
    ///
    /// - Parameter extraConfig: `redis.conf` lines, e.g. `"requirepass secret"`,
    ///   `"user alice on >pw ~* +get"`, `"appendonly yes"`, `"enable-debug-command yes"`.
    /// - Throws: ``FixtureError`` when redis-server is missing, exits, or does not answer.
    public static func start(extraConfig: [String] = []) async throws -> RedisServerFixture {
        var template = Array("/tmp/jobq-redis-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else {
            throw FixtureError("cannot create a temp directory under /tmp: errno \(errno)")
        }
        let fixture = RedisServerFixture(directory: String(cString: created), extraConfig: extraConfig)
        do {
            try await fixture.launch()
        } catch {
            await fixture.stop()
            throw error
        }
        return fixture
    }

    /// The shared server of this test process, started on first use and stopped at exit.
    public static func shared() async throws -> RedisServerFixture {
        try await SharedServer.instance.get()
    }

    /// A fresh key prefix, e.g. `t:9f3a61c2e07b:`, so tests on a shared server never collide.
    public static func uniqueNamespace() -> String {
        "test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) + "-"
    }

    /// A client for this server; `configure` may change the configuration (password, timeouts…).
    public func makeClient(_ configure: (inout RedisConfiguration) -> Void = { _ in }) -> RedisClient {
        var configuration = configuration
        configure(&configuration)
        return RedisClient(configuration: configuration)
    }

    /// SIGTERM, then SIGKILL after 5 s; removes the temp directory.
    public func stop() async {
        if let running = process.withLock({ $0 }), running.isRunning {
            running.send(SIGTERM)
            if !(await running.waitForExit(timeout: .seconds(5))) {
                running.send(SIGKILL)
                _ = await running.waitForExit(timeout: .seconds(5))
            }
        }
        process.withLock { $0 = nil }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// SIGKILL: the server dies at once, without saving; the directory is kept.
    public func kill() async {
        guard let running = process.withLock({ $0 }), running.isRunning else { return }
        running.send(SIGKILL)
        _ = await running.waitForExit(timeout: .seconds(5))
    }

    /// Kills the server (SIGKILL) and starts it again on the same socket path and directory.
    public func restart() async throws {
        await kill()
        try await launch()
    }

    /// Starts (or starts again) redis-server with this fixture's config; waits for PING.
    public func launch() async throws {
        guard let executable = Self.serverExecutable else {
            throw FixtureError(
                "redis-server not found on PATH (or $REDIS_SERVER)\(Self.isCI ? "; CI=true requires it: install redis-server" : "")"
            )
        }
        let configPath = directory + "/redis.conf"
        let lines = [
            "port 0",
            "unixsocket \(socketPath)",
            "unixsocketperm 700",
            "save \"\"",
            "appendonly no",
            "dir \(directory)",
            "logfile \(directory)/redis.log",
            "daemonize no",
        ] + extraConfig
        try (lines.joined(separator: "\n") + "\n").write(toFile: configPath, atomically: true, encoding: .utf8)

        let child = try ChildProcess.spawn(executable, [configPath])
        process.withLock { $0 = child }
        try await waitUntilReady(child)
    }

    private func waitUntilReady(_ child: ChildProcess) async throws {
        var probeConfiguration = configuration
        probeConfiguration.reconnectWindow = .zero
        probeConfiguration.commandTimeout = .seconds(1)
        let probe = RedisClient(configuration: probeConfiguration)
        let ready = await Self.poll(probe, child: child, socketPath: socketPath, until: ContinuousClock.now + .seconds(10))
        await probe.close()
        if !child.isRunning {
            throw FixtureError("redis-server exited (wait status \(child.terminationStatus ?? -1)) during start-up; its log:\n\(logTail())")
        }
        if !ready {
            throw FixtureError("redis-server at \(socketPath) did not answer PING within 10 s; its log:\n\(logTail())")
        }
    }

    private static func poll(_ probe: RedisClient, child: ChildProcess, socketPath: String, until deadline: ContinuousClock.Instant) async -> Bool {
        while ContinuousClock.now < deadline && child.isRunning {
            if FileManager.default.fileExists(atPath: socketPath) {
                do {
                    _ = try await probe.send("PING")
                    return true
                } catch let error as RedisError where error.code == .server {
                    return true  // e.g. NOAUTH: it is up and wants a password
                } catch {
                    // Not accepting connections yet.
                }
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// The last lines of the server's log, for error messages.
    public func logTail(lines: Int = 20) -> String {
        guard let text = try? String(contentsOfFile: directory + "/redis.log", encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// Starts a private redis-server, runs `body`, and stops the server (also when `body` throws).
public func withRedisServer<T>(
    extraConfig: [String] = [],
    _ body: (RedisServerFixture) async throws -> T
) async throws -> T {
    let server = try await RedisServerFixture.start(extraConfig: extraConfig)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// Runs `body` with a client on the shared server and a fresh key namespace; closes the client.
public func withSharedRedis<T>(
    _ configure: (inout RedisConfiguration) -> Void = { _ in },
    _ body: (RedisClient, String) async throws -> T
) async throws -> T {
    let server = try await RedisServerFixture.shared()
    let client = server.makeClient(configure)
    do {
        let result = try await body(client, RedisServerFixture.uniqueNamespace())
        await client.close()
        return result
    } catch {
        await client.close()
        throw error
    }
}

/// A fixture failure: what went wrong starting or reaching redis-server.
public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The per-process shared server: started once, on first use; stopped by an `atexit` handler.
private actor SharedServer {
    static let instance = SharedServer()
    private var starting: Task<RedisServerFixture, any Error>?

    func get() async throws -> RedisServerFixture {
        if let starting { return try await starting.value }
        let task = Task { () async throws -> RedisServerFixture in
            let server = try await RedisServerFixture.start()
            sharedServerAtExit.withLock { $0 = (server.pid ?? 0, server.directory) }
            atexit { stopSharedServerAtExit() }
            return server
        }
        starting = task
        return try await task.value
    }
}

private let sharedServerAtExit = Mutex<(pid: Int32, directory: String)?>(nil)

private func stopSharedServerAtExit() {
    guard let (pid, directory) = sharedServerAtExit.withLock({ $0 }) else { return }
    if pid > 0 {
        kill(pid, SIGTERM)
        // Reaped by us (returns pid) or already by Foundation (-1, ECHILD): gone either way.
        var waited = 0
        while waitpid(pid, nil, WNOHANG) == 0 && waited < 2_000 {
            usleep(1_000)
            waited += 1
        }
        if waited == 2_000 { kill(pid, SIGKILL) }
    }
    try? FileManager.default.removeItem(atPath: directory)
}
