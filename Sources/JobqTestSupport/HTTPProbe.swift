import Foundation

/// What an HTTP GET to a local test server answered.
public struct HTTPReply: Sendable {
    /// The status line's code (`200`, `503`).
    public let status: Int
    public let body: String
}

/// A minimal HTTP GET over a TCP socket to 127.0.0.1 (no URLSession dependency), for tests of
/// the metrics endpoints; the server closes the connection after one reply.
public func httpRequest(port: Int, path: String) async throws -> HTTPReply {
    // Blocking socket calls on a thread of their own: on the cooperative pool they would starve
    // the server under test when it needs the pool (the coordinator's scrape reads Redis).
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try blockingGet(port: port, path: path) })
        }
    }
}

private func blockingGet(port: Int, path: String) throws -> HTTPReply {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard connected == 0 else { throw FixtureError("cannot connect to 127.0.0.1:\(port): errno \(errno)") }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count <= 0 { break }
        response += buffer[0..<count]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { throw FixtureError("no HTTP reply from 127.0.0.1:\(port)") }
    let status = text[..<split.lowerBound].split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return HTTPReply(status: status, body: String(text[split.upperBound...]))
}

/// The body of a GET (whatever its status).
public func httpGet(port: Int, path: String) async throws -> String {
    try await httpRequest(port: port, path: path).body
}
