import Jobq
import JobqCore
import JobqRedis
import JobqTestSupport
import Testing

/// Refused credentials and permissions reach library users as ``JobqError``s that keep their
/// cause: the server reply's parsed prefix tells NOAUTH, WRONGPASS and NOPERM apart, and each
/// message says what actually happened (no "wants a password" when one was given).
@Suite("Credential errors keep their cause", .enabled(if: RedisServerFixture.shouldRun))
struct CredentialErrorTests {
    static let serverConfig = [
        "requirepass right-pw",
        "user limited on >limited-pw ~other:* &* +ping +xrevrange",
    ]

    func firstError(_ redis: RedisClient) async -> JobqError? {
        defer { Task { await redis.close() } }
        do {
            let coordinator = try Coordinator(redis: redis, namespace: "creds")
            _ = try await coordinator.inspector.lastEventID()
            return nil
        } catch {
            return error
        }
    }

    @Test func noAuthWrongPassAndNoPermAreTold() async throws {
        try await withRedisServer(extraConfig: Self.serverConfig) { server in
            let noAuth = try #require(await firstError(server.makeClient()))
            #expect(noAuth.code == .redisUnavailable)
            #expect(noAuth.serverError?.prefix == "NOAUTH")
            #expect(noAuth.redisError != nil)
            #expect(noAuth.message.contains("requires a password and none was given"), "\(noAuth.message)")

            let wrongPass = try #require(await firstError(server.makeClient { $0.password = "wrong-pw" }))
            #expect(wrongPass.code == .redisUnavailable)
            #expect(wrongPass.serverError?.prefix == "WRONGPASS")
            #expect(wrongPass.message.contains("refused AUTH for the default user"), "\(wrongPass.message)")
            #expect(!wrongPass.message.contains("none was given"), "\(wrongPass.message)")

            let noPerm = try #require(await firstError(server.makeClient {
                $0.username = "limited"
                $0.password = "limited-pw"
            }))
            #expect(noPerm.code == .redisError)
            #expect(noPerm.serverError?.prefix == "NOPERM")
            #expect(noPerm.message.contains("lacks a permission"), "\(noPerm.message)")

            let right = server.makeClient { $0.password = "right-pw" }
            #expect(await firstError(right) == nil)
        }
    }

    @Test func advicePerPrefixNamesTheSetting() {
        let wrong = JobqError(
            translating: RedisError(code: .authenticationFailed, message: "refused", serverError: RedisServerError(message: "WRONGPASS invalid username-password pair")),
            doing: "stats"
        )
        let explained = wrong.explainingCredentials(passwordSource: "--password-file /run/pw", urlSource: "--redis")
        #expect(explained.message.contains("the password from --password-file /run/pw"))
        #expect(explained.code == wrong.code)
        #expect(explained.serverError?.prefix == "WRONGPASS")

        let missing = JobqError(translating: RedisError.serverReply("NOAUTH Authentication required."), doing: "stats")
        #expect(missing.explainingCredentials(passwordSource: nil, urlSource: "--redis").message.contains("--password-file FILE or JOBQ_REDIS_PASSWORD"))

        // Other errors are left alone.
        let other = JobqError(.notFound, "no task t")
        #expect(other.explainingCredentials(passwordSource: nil, urlSource: "--redis") == other)
    }
}

extension RedisError {
    /// An error reply as `send` throws it.
    static func serverReply(_ line: String) -> RedisError {
        let reply = RedisServerError(message: line)
        return RedisError(code: .server, message: "redis-server replied: \(line)", serverError: reply)
    }
}
