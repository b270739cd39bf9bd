import Foundation
import Prometheus
import Synchronization

/// A tiny HTTP/1.1 responder for Prometheus on a dedicated thread: `GET /metrics` (text format
/// 0.0.4) and `GET /healthz` (200 while the worker runs, 503 once it is stopping). One request
/// per connection; no web framework.
final class MetricsServer: Sendable {
    let registry: PrometheusCollectorRegistry
    let port: Int
    private let socket: Int32
    private let healthy: @Sendable () -> Bool

    struct BindError: Error, CustomStringConvertible {
        let description: String
    }

    /// Binds and listens; serving starts with ``start()``.
    init(address: String, port: Int, registry: PrometheusCollectorRegistry, healthy: @escaping @Sendable () -> Bool) throws {
        self.registry = registry
        self.healthy = healthy
        let isV6 = address.contains(":")
        let fd = Glibc.socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BindError(description: "cannot create a socket: \(String(cString: strerror(errno)))") }
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
                throw BindError(description: "--metrics-address \(address) is not an IP address")
            }
            bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else {
                close(fd)
                throw BindError(description: "--metrics-address \(address) is not an IP address")
            }
            bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw BindError(description: "cannot listen on \(address):\(port) for metrics: \(message) — choose another --metrics-port")
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

    func start() {
        let thread = Thread { [self] in serve() }
        thread.name = "jobq-metrics"
        thread.start()
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
                (status, type, body) = ("200 OK", "text/plain; version=0.0.4; charset=utf-8", registry.emitToBuffer())
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
}
