import Testing
@testable import JobqRedis

@Suite struct URLParsingTests {
    @Test func tcpDefaults() throws {
        let c = try RedisConfiguration(url: "redis://localhost")
        #expect(c.endpoint == .tcp(host: "localhost", port: 6379))
        #expect(c.username == nil)
        #expect(c.password == nil)
        #expect(c.database == 0)
    }

    @Test func tcpFull() throws {
        let c = try RedisConfiguration(url: "redis://alice:s%40cr%3At@redis.example.com:6380/3")
        #expect(c.endpoint == .tcp(host: "redis.example.com", port: 6380))
        #expect(c.username == "alice")
        #expect(c.password == "s@cr:t")
        #expect(c.database == 3)
    }

    @Test func passwordOnly() throws {
        let c = try RedisConfiguration(url: "redis://:hunter2@10.0.0.1:7000/")
        #expect(c.endpoint == .tcp(host: "10.0.0.1", port: 7000))
        #expect(c.username == nil)
        #expect(c.password == "hunter2")
        #expect(c.database == 0)
    }

    @Test func ipv6() throws {
        let c = try RedisConfiguration(url: "redis://[::1]:6390/2")
        #expect(c.endpoint == .tcp(host: "::1", port: 6390))
        #expect(c.database == 2)
        #expect(c.endpoint.description == "redis://[::1]:6390")
    }

    @Test func unixSocket() throws {
        let c = try RedisConfiguration(url: "unix:///var/run/redis/redis.sock?db=5&password=p%26w")
        #expect(c.endpoint == .unix(path: "/var/run/redis/redis.sock"))
        #expect(c.database == 5)
        #expect(c.password == "p&w")
        #expect(c.endpoint.description == "unix:///var/run/redis/redis.sock")
    }

    @Test func userWithoutPasswordTakesThePasswordFromElsewhere() throws {
        let c = try RedisConfiguration(url: "redis://jobq-a@host:6380")
        #expect(c.username == "jobq-a")
        #expect(c.password == nil)
        let u = try RedisConfiguration(url: "unix://jobq-b@/run/redis.sock")
        #expect(u.username == "jobq-b" && u.password == nil && u.endpoint == .unix(path: "/run/redis.sock"))
    }

    @Test func unixSocketWithUserInfo() throws {
        let c = try RedisConfiguration(url: "unix://bob:pw@/tmp/r.sock")
        #expect(c.endpoint == .unix(path: "/tmp/r.sock"))
        #expect(c.username == "bob")
        #expect(c.password == "pw")
    }

    @Test func defaultsOfTimeouts() throws {
        let c = try RedisConfiguration(url: "redis://h")
        #expect(c.connectTimeout == .seconds(2))
        #expect(c.commandTimeout == .seconds(5))
        #expect(c.reconnectWindow == .seconds(2))
        #expect(c.idleSpin == .microseconds(50) && c.replySpin == .microseconds(50))
    }

    /// `spin_us` sets both lane spins (0: never spin, for a host with no spare core).
    @Test func spinFromTheURL() throws {
        let off = try RedisConfiguration(url: "unix:///tmp/r.sock?spin_us=0&db=2")
        #expect(off.idleSpin == .zero && off.replySpin == .zero && off.database == 2)
        let long = try RedisConfiguration(url: "redis://h:1/0?spin_us=200")
        #expect(long.idleSpin == .microseconds(200) && long.replySpin == .microseconds(200))
    }

    @Test(arguments: [
        "localhost:6379",  // no scheme
        "http://localhost",  // wrong scheme
        "rediss://localhost",  // TLS unsupported
        "redis://",  // no host
        "redis://host:0",  // port out of range
        "redis://host:65536",
        "redis://host:abc",
        "redis://host/notanumber",
        "redis://host/-1",
        "redis://:pw%zz@host",  // bad escape
        "redis://[::1",  // unterminated IPv6
        "unix://relative/path.sock",
        "unix://",
        "unix:///tmp/r.sock?db=x",
        "unix:///tmp/r.sock?timeout=3",  // unknown parameter
        "unix:///tmp/r.sock?spin_us=-1",
        "unix:///tmp/r.sock?spin_us=10001",
        "redis://h?spin_us=5ms",
        "redis://host#frag",
    ])
    func invalid(url: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("\(url) should not parse")
        } catch let error as RedisError {
            #expect(error.code == .invalidURL)
            #expect(error.description.contains("expected redis://"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func errorsDoNotLeakPasswords() {
        do {
            _ = try RedisConfiguration(url: "redis://u:topsecret@host:99999")
            Issue.record("should not parse")
        } catch {
            #expect(!"\(error)".contains("topsecret"))
        }
    }
}
