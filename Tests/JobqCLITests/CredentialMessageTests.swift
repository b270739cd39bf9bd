import Foundation
import JobqTestSupport
import Testing

/// `jobq` tells a missing password (NOAUTH) from a refused one (WRONGPASS) and from a missing
/// permission (NOPERM), and names the setting the password came from.
@Suite("Credential messages", .enabled(if: redisAvailable))
struct CredentialMessageTests {
    @Test func noAuthWrongPassAndNoPerm() async throws {
        let config = ["requirepass right-pw", "user limited on >limited-pw ~other:* &* +@all"]
        try await withRedisServer(extraConfig: config) { server in
            let none = try await CLIHarness.execute(["stats", "--json", "--redis", server.url])
            #expect(none.status == 69)
            let noneError = try none.jsonError()
            #expect(noneError["code"] as? String == "redis_unavailable")
            let noneMessage = noneError["message"] as? String ?? ""
            #expect(noneMessage.contains("requires a password and none was given"), "\(noneMessage)")
            #expect(noneMessage.contains("--password-file"), "\(noneMessage)")

            let file = try CLIHarness.temporaryFile("pw", "wrong-pw\n")
            let wrong = try await CLIHarness.execute(["stats", "--redis", server.url, "--password-file", file])
            #expect(wrong.status == 69)
            #expect(wrong.stderr.contains("WRONGPASS"), "\(wrong.stderr)")
            #expect(wrong.stderr.contains("the password from --password-file \(file)"), "\(wrong.stderr)")
            #expect(!wrong.stderr.contains("none was given"), "\(wrong.stderr)")
            #expect(!wrong.stderr.contains("wants a password"), "\(wrong.stderr)")

            let fromEnvironment = try await CLIHarness.execute(["stats", "--redis", server.url], environment: ["JOBQ_REDIS_PASSWORD": "wrong-pw"])
            #expect(fromEnvironment.status == 69)
            #expect(fromEnvironment.stderr.contains("the password from JOBQ_REDIS_PASSWORD"), "\(fromEnvironment.stderr)")

            let limited = "unix://limited@" + server.socketPath
            let noPerm = try await CLIHarness.execute(["stats", "--redis", limited], environment: ["JOBQ_REDIS_PASSWORD": "limited-pw"])
            #expect(noPerm.status == 69)
            #expect(noPerm.stderr.contains("NOPERM"), "\(noPerm.stderr)")
            #expect(noPerm.stderr.contains("docs/security.md"), "\(noPerm.stderr)")
            #expect(!noPerm.stderr.contains("password"), "\(noPerm.stderr)")
        }
    }

    @Test func configurationErrorsNameTheirSetting() async throws {
        let flag = try await CLIHarness.execute(["list", "--redis", "http://x"])
        #expect(flag.status == 64)
        #expect(flag.stderr.contains("--redis:"), "\(flag.stderr)")
        let environment = try await CLIHarness.execute(["list"], environment: ["JOBQ_REDIS_URL": "http://x"])
        #expect(environment.status == 64)
        #expect(environment.stderr.contains("JOBQ_REDIS_URL:"), "\(environment.stderr)")
        let empty = try CLIHarness.temporaryFile("pw", "\n")
        let emptyFile = try await CLIHarness.execute(["list", "--redis", "unix:///x.sock", "--password-file", empty])
        #expect(emptyFile.status == 64)
        #expect(emptyFile.stderr.contains("--password-file: the password file \(empty) is empty"), "\(emptyFile.stderr)")
        let missing = try await CLIHarness.execute(["list", "--redis", "unix:///x.sock", "--password-file", "/nonexistent/pw"])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("--password-file: cannot read"), "\(missing.stderr)")
    }
}
