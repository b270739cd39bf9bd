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

    /// The setting the URL came from, for messages: `--redis`, `JOBQ_REDIS_URL` or the default.
    var urlSource: String {
        if redis != nil { return "--redis" }
        if Environment.value("JOBQ_REDIS_URL") != nil { return "JOBQ_REDIS_URL" }
        return "the default URL \(JobqClient.defaultURL)"
    }

    /// The setting the password came from, for messages; nil when none was given.
    var passwordSource: String? {
        if let passwordFile { return "--password-file \(passwordFile)" }
        if Environment.value("JOBQ_REDIS_PASSWORD") != nil { return "JOBQ_REDIS_PASSWORD" }
        if (try? RedisConfiguration(url: resolvedURL))?.password != nil { return "the URL (\(urlSource))" }
        return nil
    }

    var resolvedNamespace: String {
        namespace ?? Environment.value("JOBQ_NAMESPACE") ?? "default"
    }

    /// The Redis configuration, with the password from the file or the environment. Errors
    /// name the setting that held the bad value.
    func configuration() throws(JobqError) -> RedisConfiguration {
        var configuration: RedisConfiguration
        do {
            configuration = try RedisConfiguration(url: resolvedURL)
        } catch let error as RedisError {
            throw JobqError(.invalidConnection, "\(urlSource): \(error.message)", underlying: error)
        } catch {
            throw JobqError(.invalidConnection, "\(urlSource): invalid redis URL: \(error)", underlying: error)
        }
        if let passwordFile {
            configuration.password = try PasswordFile.read(passwordFile, setting: "--password-file")
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
        } catch let error {
            throw JobqError(.invalidConnection, "\(self.namespace != nil ? "--namespace" : "JOBQ_NAMESPACE"): \(error.message)", underlying: error)
        }
        EnvironmentTraceContext.bootstrapIfPresent()
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
