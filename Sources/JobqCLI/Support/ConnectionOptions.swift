import ArgumentParser
import Foundation
import Jobq
import JobqCore
import JobqRedis

/// `--redis`, `--namespace`, `--password-file`: shared by every command that talks to Redis.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Redis URL: redis://[user:password@]host[:port][/db] or unix:///path/to/redis.sock. (env: JOBQ_REDIS_URL, default: \(JobqClient.defaultURL))",
            valueName: "url"
        )
    )
    var redis: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Key namespace: one independent jobq installation per namespace. (env: JOBQ_NAMESPACE, default: default)",
            valueName: "name"
        )
    )
    var namespace: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read the Redis password from this file (first line). Without it: JOBQ_REDIS_PASSWORD, or a password in the URL. Never pass a password as an argument: other users can read it.",
            valueName: "path"
        )
    )
    var passwordFile: String?

    /// The URL, from the flag, the environment or the default.
    var resolvedURL: String {
        redis ?? Environment.value("JOBQ_REDIS_URL") ?? JobqClient.defaultURL
    }

    var resolvedNamespace: String {
        namespace ?? Environment.value("JOBQ_NAMESPACE") ?? "default"
    }

    /// The Redis configuration, with the password from the file or the environment.
    func configuration() throws(JobqError) -> RedisConfiguration {
        var configuration: RedisConfiguration
        do {
            configuration = try RedisConfiguration(url: resolvedURL)
        } catch let error as RedisError {
            throw JobqError(.invalidConnection, error.message + " (set with --redis or JOBQ_REDIS_URL)")
        } catch {
            throw JobqError(.invalidConnection, "invalid redis URL: \(error)")
        }
        if let passwordFile {
            guard let data = FileManager.default.contents(atPath: passwordFile) else {
                throw JobqError(.fileNotFound, "cannot read the password file \(passwordFile): check the path and its permissions")
            }
            let text = String(decoding: data, as: UTF8.self)
            let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let password = line.hasSuffix("\r") ? String(line.dropLast()) : line
            guard !password.isEmpty else {
                throw JobqError(.invalidConnection, "the password file \(passwordFile) is empty; put the password on its first line")
            }
            configuration.password = password
        } else if let password = Environment.value("JOBQ_REDIS_PASSWORD") {
            configuration.password = password
        }
        configuration.connectTimeout = .seconds(2)
        configuration.reconnectWindow = .seconds(1)
        return configuration
    }

    /// A client (connected lazily) on the resolved namespace.
    func client() throws(JobqError) -> JobqClient {
        let configuration = try configuration()
        let namespace = resolvedNamespace
        do {
            try Validation.check(name: namespace, as: .namespace)
        } catch {
            throw JobqError(.invalidConnection, error.message + " (set with --namespace or JOBQ_NAMESPACE)")
        }
        return try JobqClient(configuration: configuration, namespace: namespace)
    }
}

/// Environment variables, empty ones treated as unset.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}

/// `--json`: machine-readable output.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON (stable snake_case field names) instead of text; errors go to stderr as JSON too.")
    var json = false
}
