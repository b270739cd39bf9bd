import ArgumentParser
import Foundation
import Hummingbird
import Jobq
import JobqCore
import JobqDashboard
import Logging

/// `jobq dashboard`: the web dashboard (JobqDashboard's routes) on its own server.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve the web dashboard: runs, tasks, queues, workers, schedules, live, with actions.",
        discussion: """
            Pages work without JavaScript; every page has a JSON twin under /api/v1 with the
            fields of the matching `--json` command. Stateless: any number may serve one namespace.

            Binds to 127.0.0.1 by default. Another address needs authentication: a token, or
            user:password for HTTP Basic, on the first line of --auth-file or in
            JOBQ_DASHBOARD_TOKEN (never on the command line: other users can read it).

              jobq dashboard                                   # http://127.0.0.1:7800/
              jobq dashboard --listen 0.0.0.0:7800 --auth-file /etc/jobq/dashboard.auth
              jobq dashboard --read-only                       # no actions
            """
    )

    @Option(help: ArgumentHelp("Address and port to serve on (port 0: any free port, printed).", valueName: "host:port"))
    var listen = "127.0.0.1:7800"

    @Option(help: ArgumentHelp("Require authentication: the file's first line is a token, or user:password for HTTP Basic. (env: JOBQ_DASHBOARD_TOKEN)", valueName: "path"))
    var authFile: String?

    @Flag(help: "Refuse every action (retry, cancel, pause, answer, signal): look only.")
    var readOnly = false

    @OptionGroup(title: "Connection") var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run(connection, json: false) { client in
            let (host, port) = try Self.address(listen)
            let auth = try Self.auth(file: authFile)
            if auth == nil, !Self.isLoopback(host) {
                throw JobqError(.insecureListen, "--listen \(listen) is not a loopback address: anyone who reaches it could act on your tasks; give credentials with --auth-file or JOBQ_DASHBOARD_TOKEN, or listen on 127.0.0.1", subject: listen)
            }
            _ = try await client.serverTime() // fail now, with the usual message, if Redis is away
            let dashboard = Dashboard(client: client, options: Dashboard.Options(auth: auth, readOnly: readOnly))
            // the server's own log: warnings and errors only (the URL line below says it started)
            var logger = Logger(label: "jobq-dashboard")
            logger.logLevel = .warning
            let router = Router(context: DashboardRequestContext.self)
            dashboard.addRoutes(to: router)
            let app = Application(
                router: router, configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "jobq"),
                services: dashboard.services,
                onServerRunning: { channel in
                    let bound = channel.localAddress?.port ?? port
                    let shown = host.contains(":") ? "[\(host)]" : host
                    Console.out("jobq dashboard: http://\(shown):\(bound)/ (namespace \(client.namespace)\(readOnly ? ", read-only" : "")\(auth == nil ? "" : ", authentication required"))")
                },
                logger: logger
            )
            do {
                try await app.runService()
            } catch {
                throw JobqError(.internalError, "the dashboard's server stopped: \(error)")
            }
            return .ok
        }
    }

    /// `HOST:PORT`, `[V6]:PORT` → host and port. Throws `invalid_option`.
    static func address(_ text: String) throws(JobqError) -> (String, Int) {
        var host = text, portText = ""
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = String(text[close...].dropFirst().drop { $0 == ":" })
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else {
            throw JobqError(.invalidOption, "--listen \(text): expected HOST:PORT (e.g. 127.0.0.1:7800)", subject: text)
        }
        return (host, port)
    }

    /// Whether only this machine can reach `host`: 127.0.0.0/8, ::1, localhost.
    static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" || lower == "0:0:0:0:0:0:0:1" { return true }
        let parts = lower.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// The credentials from `--auth-file`, else JOBQ_DASHBOARD_TOKEN; `nil` when neither is set.
    static func auth(file: String?) throws(JobqError) -> DashboardAuth? {
        if let file {
            let line = try PasswordFile.read(file, setting: "--auth-file")
            guard let auth = DashboardAuth(line: line) else {
                throw JobqError(.invalidOption, "--auth-file \(file): the first line must be a token or user:password", subject: file)
            }
            return auth
        }
        guard let value = Environment.value("JOBQ_DASHBOARD_TOKEN") else { return nil }
        guard let auth = DashboardAuth(line: value) else {
            throw JobqError(.invalidOption, "JOBQ_DASHBOARD_TOKEN must be a token or user:password")
        }
        return auth
    }
}
