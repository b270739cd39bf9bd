import Foundation
import Synchronization

/// A tiny HTTP/1.1 responder for Prometheus on a dedicated thread: `GET /metrics` (text format
/// 0.0.4) and `GET /healthz` (200 while the process runs, 503 once it is stopping). One request
/// per connection; no web framework. `jobq-worker --metrics-port` serves its own counters with
/// it, `jobq coordinator --metrics-port` the cluster's state read from Redis at each scrape.
package final class MetricsServer: Sendable {
    /// The exposition text for one scrape. An async body (a Redis read) runs off this server's
    /// thread, which waits for it up to ``scrapeTimeout``; a throwing one answers 503, so
    /// Prometheus records a failed scrape instead of stale or partial figures.
    package typealias Body = @Sendable () async throws -> [UInt8]

    package let port: Int
    package let address: String
    private let socket: Int32
    private let healthy: @Sendable () -> Bool
    private let body: Body
    private let scrapeTimeout: Duration

    /// Why the server could not start: the address is not an IP address (bad input), or the
    /// port cannot be bound (in use, not permitted, address not local).
    package struct BindError: Error, CustomStringConvertible {
        package enum Kind: Sendable { case badAddress, cannotListen }
        package let kind: Kind
        package let description: String
    }

    /// Binds and listens; serving starts with ``start()``.
    package init(
        address: String, port: Int, scrapeTimeout: Duration = .seconds(10),
        healthy: @escaping @Sendable () -> Bool = { true }, body: @escaping Body
    ) throws(BindError) {
        self.body = body
        self.healthy = healthy
        self.scrapeTimeout = scrapeTimeout
        self.address = address
        let isV6 = address.contains(":")
        let fd = Glibc.socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BindError(kind: .cannotListen, description: "cannot create a socket: \(String(cString: strerror(errno)))") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var bound: Int32
        if isV6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET6, address, &addr.sin6_addr) == 1 else {
                close(fd)
                throw BindError(kind: .badAddress, description: "\(address) is not an IP address")
            }
            bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else {
                close(fd)
                throw BindError(kind: .badAddress, description: "\(address) is not an IP address")
            }
            bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw BindError(kind: .cannotListen, description: "cannot listen on \(address):\(port) for metrics: \(message)")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let actualPort = withUnsafePointer(to: &storage) { pointer -> Int in
            if isV6 { return Int(UInt16(bigEndian: pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_port })) }
            return Int(UInt16(bigEndian: pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port }))
        }
        self.socket = fd
        self.port = actualPort
    }

    package func start() {
        let thread = Thread { [self] in serve() }
        thread.name = "jobq-metrics"
        thread.start()
    }

    /// Stops accepting scrapes (tests; a process that exits needs not call it).
    package func stop() {
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
    }

    private func serve() {
        while true {
            let client = accept(socket, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            respond(client)
            close(client)
        }
    }

    private func respond(_ client: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while request.count < 16 * 1024 {
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { break }
            request += buffer[0..<count]
            if request.count >= 4, request.suffix(4).elementsEqual([13, 10, 13, 10]) || request.firstRange(of: [13, 10, 13, 10]) != nil { break }
        }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self).split(separator: " ")
        let (status, type, body): (String, String, [UInt8])
        if line.count < 2 || (line[0] != "GET" && line[0] != "HEAD") {
            (status, type, body) = ("405 Method Not Allowed", "text/plain", Array("only GET\n".utf8))
        } else {
            let path = line[1].split(separator: "?").first.map(String.init) ?? "/"
            switch path {
            case "/metrics":
                switch scrape() {
                case .success(let text): (status, type, body) = ("200 OK", "text/plain; version=0.0.4; charset=utf-8", text)
                case .failure(let error): (status, type, body) = ("503 Service Unavailable", "text/plain", Array("scrape failed: \(error)\n".utf8))
                }
            case "/healthz":
                (status, type, body) = healthy() ? ("200 OK", "text/plain", Array("ok\n".utf8)) : ("503 Service Unavailable", "text/plain", Array("stopping\n".utf8))
            default:
                (status, type, body) = ("404 Not Found", "text/plain", Array("try /metrics or /healthz\n".utf8))
            }
        }
        var response = Array("HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8)
        if line.first != "HEAD" { response += body }
        var offset = 0
        while offset < response.count {
            let written = response.withUnsafeBytes { send(client, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// Runs the body in a Swift task and waits on this thread (never on the cooperative pool).
    private func scrape() -> Result<[UInt8], any Error> {
        struct TimedOut: Error, CustomStringConvertible {
            let description = "timed out"
        }
        final class Outcome: Sendable {
            let value = Mutex<Result<[UInt8], any Error>?>(nil)
            let done = DispatchSemaphore(value: 0)
        }
        let outcome = Outcome()
        let body = self.body
        let work = Task {
            let result: Result<[UInt8], any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.value.withLock { $0 = result }
            outcome.done.signal()
        }
        let seconds = Double(scrapeTimeout.components.seconds) + Double(scrapeTimeout.components.attoseconds) / 1e18
        if outcome.done.wait(timeout: .now() + seconds) == .timedOut {
            work.cancel()
            return .failure(TimedOut())
        }
        return outcome.value.withLock { $0 } ?? .failure(TimedOut())
    }
}
