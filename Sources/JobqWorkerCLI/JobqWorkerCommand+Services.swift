import ArgumentParser
import ServiceLifecycle

/// The `jobq-worker` command as a library (product `JobqWorkerCLI`), for executables that are
/// jobq-worker plus something it must not depend on itself: `Integrations/OTel`'s
/// `jobq-worker-otel` bootstraps an OpenTelemetry tracer, then runs this command with the
/// exporter's service beside the worker. Same flags, same behaviour, one copy of the code.
extension JobqWorkerCommand {
    public func run() async throws {
        try await run(alongside: [])
    }

    /// Parses the process's arguments and runs the worker with `services` in its service
    /// group: they start first and are shut down last (after the worker has recorded its last
    /// outcomes), so an exporter flushes the final spans. Exits as `main()` does.
    public static func main(alongside services: [any Service]) async {
        do {
            // the root command has no subcommands: anything else parsing returns is `--help`'s
            var command = try parseAsRoot()
            if let worker = command as? JobqWorkerCommand {
                try await worker.run(alongside: services)
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
