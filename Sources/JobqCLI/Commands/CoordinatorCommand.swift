import ArgumentParser
import Foundation
import Jobq
import JobqCore
import JobqMetrics

/// `jobq coordinator`: the maintenance pass, on its own.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the maintenance pass: reap expired leases, promote due tasks, apply retention, fire schedules.",
        discussion: """
            Every jobq-worker already runs this pass (one of them per interval, by a lock), so
            you need this command only when no worker is running — e.g. to let delayed tasks
            fall due, expired leases be reaped, finished tasks be deleted and schedules fire
            while the fleet is scaled to zero — or to run one pass by hand. Any number may run; the lock keeps the
            work single. The state changes are the same atomic scripts the workers use.

              jobq coordinator                 # every second until Ctrl-C
              jobq coordinator --once --json   # one pass, report what it did
              jobq coordinator --metrics-port 9465   # and serve the cluster's metrics

            With --metrics-port it also serves Prometheus metrics of the whole namespace at
            http://HOST:PORT/metrics, read from Redis at each scrape (docs/operations.md).
            """
    )

    @Flag(help: "Run one pass (if no one else holds the lock) and exit.")
    var once = false

    @Option(help: ArgumentHelp("Time between passes (default 1s).", valueName: "duration"))
    var interval: DurationArgument?

    @Option(name: .customLong("metrics-port"), help: ArgumentHelp("Serve the namespace's Prometheus metrics at http://<host>:<port>/metrics; 0 picks a free port.", valueName: "port"))
    var metricsPort: Int?

    @Option(name: [.customLong("metrics-host"), .customLong("metrics-address")], help: ArgumentHelp("The IP address the metrics endpoint listens on (default 127.0.0.1; 0.0.0.0 for every interface). --metrics-address, as jobq-worker spells it, is the same.", valueName: "ip"))
    var metricsHost: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        let every = interval?.duration ?? .seconds(1)
        let owner = "coordinator-\(ProcessInfo.processInfo.hostName)-\(getpid())"
        try await CommandRunner.run(connection, json: output.json) { client in
            let server = try startMetrics(client)
            defer { server?.stop() }
            repeat {
                let pass = try await client.maintenancePass(owner: owner, interval: every)
                report(pass)
                if !once { try? await Task.sleep(for: every) }
            } while !once && !Task.isCancelled
            return .ok
        }
    }

    /// Binds the metrics endpoint before the first pass, so a bad `--metrics-port` or
    /// `--metrics-host` is refused at once (nothing written) rather than after work was done.
    private func startMetrics(_ client: JobqClient) throws(JobqError) -> MetricsServer? {
        guard let port = metricsPort else {
            if let metricsHost { throw JobqError(.invalidOption, "--metrics-host \(metricsHost) needs --metrics-port") }
            return nil
        }
        guard (0...65535).contains(port) else {
            throw JobqError(.invalidOption, "--metrics-port must be between 0 and 65535; got \(port)")
        }
        if once { throw JobqError(.invalidOption, "--metrics-port serves while the coordinator runs; drop --once") }
        let host = metricsHost ?? "127.0.0.1"
        let server: MetricsServer
        do {
            server = try MetricsServer(address: host, port: port) { try await ClusterMetrics.exposition(client: client) }
        } catch {
            switch error.kind {
            case .badAddress: throw JobqError(.invalidOption, "--metrics-host \(error.description)")
            case .cannotListen: throw JobqError(.cannotListen, "\(error.description); choose another --metrics-port")
            }
        }
        server.start()
        Console.err("jobq coordinator: serving metrics at http://\(host.contains(":") ? "[\(host)]" : host):\(server.port)/metrics")
        return server
    }

    private func report(_ pass: MaintenanceResult?) {
        for failure in pass?.scheduleErrors ?? [] where !output.json {
            Console.err("jobq coordinator: \(failure.message) [\(failure.code.rawValue)]; it stays due")
        }
        guard let pass else {
            if once {
                if output.json {
                    Console.out(JSONValue.object([("ran", .bool(false))]).rendered())
                } else {
                    Console.out("another process holds the maintenance lock; nothing done")
                }
            }
            return
        }
        let reaped = pass.reaped.count, promoted = pass.promote.promoted, deleted = pass.promote.deleted, expired = pass.promote.expired
        let scheduled = pass.scheduledRuns
        if output.json {
            Console.out(JSONValue.object([
                ("ran", .bool(true)), ("reaped", .int(reaped)), ("promoted", .int(promoted)), ("expired", .int(expired)), ("deleted", .int(deleted)),
                ("scheduled_runs", .array(scheduled.map { .string($0) })),
                ("schedule_errors", .array(pass.scheduleErrors.map { .object([("code", .string($0.code.rawValue)), ("message", .string($0.message))]) })),
            ]).rendered())
        } else if once || reaped + promoted + expired + deleted + scheduled.count > 0 {
            Console.out("reaped \(reaped), promoted \(promoted), expired \(expired), deleted \(deleted)" + (scheduled.isEmpty ? "" : ", started \(scheduled.joined(separator: " "))"))
        }
    }
}
