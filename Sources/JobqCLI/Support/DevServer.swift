import Foundation
import JobqCore
import JobqRedis

/// A redis-server in a temp directory, on a Unix socket.
struct DevServer: Sendable {
    let directory: String
    let socket: String
    let process: Subprocess

    var url: String { "unix://" + socket }

    static func start(port: Int?) async throws(JobqError) -> DevServer {
        let environment = ProcessInfo.processInfo.environment
        let explicit = environment["REDIS_SERVER"].flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil }
        guard let executable = explicit ?? Subprocess.which("redis-server") else {
            throw JobqError(.redisUnavailable, "redis-server is not on PATH (nor in $REDIS_SERVER); install Redis 7 (e.g. apt-get install redis-server)")
        }
        var template = Array("/tmp/jobq-dev-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else {
            throw JobqError(.cannotWrite, "cannot create a temporary directory under /tmp (errno \(errno))")
        }
        let directory = String(cString: created)
        let socket = directory + "/redis.sock"
        let config = [
            "port \(port ?? 0)", "bind 127.0.0.1", "unixsocket \(socket)", "unixsocketperm 700", "save \"\"",
            "appendonly no", "dir \(directory)", "logfile \(directory)/redis.log", "daemonize no",
        ].joined(separator: "\n") + "\n"
        do {
            try config.write(toFile: directory + "/redis.conf", atomically: true, encoding: .utf8)
        } catch {
            throw JobqError(.cannotWrite, "cannot write \(directory)/redis.conf: \(error.localizedDescription)")
        }
        let process: Subprocess
        do {
            process = try Subprocess.spawn(executable, [directory + "/redis.conf"])
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw JobqError(.redisUnavailable, "\(error)")
        }
        let server = DevServer(directory: directory, socket: socket, process: process)
        // Wait (bounded) until it answers PING.
        var configuration = RedisConfiguration(endpoint: .unix(path: socket))
        configuration.connectTimeout = .milliseconds(500)
        configuration.reconnectWindow = .zero
        configuration.commandTimeout = .seconds(1)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if FileManager.default.fileExists(atPath: socket) {
                let probe = RedisClient(configuration: configuration)
                let answered = (try? await probe.send("PING")) != nil
                await probe.close()
                if answered { return server }
            }
            if kill(process.pid, 0) != 0 { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let log = (try? String(contentsOfFile: directory + "/redis.log", encoding: .utf8)) ?? ""
        await server.stop()
        throw JobqError(.redisUnavailable, "redis-server did not start within 10 s; its log:\n" + log.split(separator: "\n").suffix(10).joined(separator: "\n"))
    }

    /// SIGTERM, SIGKILL after 5 s; removes the directory.
    func stop() async {
        process.send(SIGTERM)
        let exited = Task { await process.waitForExit() }
        let killer = Task {
            try await Task.sleep(for: .seconds(5))
            process.send(SIGKILL)
        }
        _ = await exited.value
        killer.cancel()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
