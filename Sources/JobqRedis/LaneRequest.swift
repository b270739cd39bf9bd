/// Work handed to a lane: RESP bytes already formatted by the caller, how many replies they
/// produce, and the continuation to resume with them.
struct LaneRequest: Sendable, LaneQueueItem {
    enum Completion: Sendable {
        /// One command; resumed with its reply.
        case single(UnsafeContinuation<RedisValue, any Error>)
        /// A pipeline; resumed with all replies in order.
        case multiple(UnsafeContinuation<[RedisValue], any Error>)
    }

    /// One or more RESP-encoded commands.
    let payload: [UInt8]
    /// Replies to read for `payload`.
    let replyCount: Int
    /// Nonzero for requests that can be cancelled while in flight (blocking lanes).
    let id: UInt64
    /// Read timeout for this request; nil means the configuration's `commandTimeout`.
    let readTimeout: Duration?
    let completion: Completion

    init(payload: [UInt8], replyCount: Int, id: UInt64 = 0, readTimeout: Duration? = nil, completion: Completion) {
        self.payload = payload
        self.replyCount = replyCount
        self.id = id
        self.readTimeout = readTimeout
        self.completion = completion
    }

    var payloadSize: Int { payload.count }

    func fail(_ error: any Error) {
        switch completion {
        case .single(let continuation): continuation.resume(throwing: error)
        case .multiple(let continuation): continuation.resume(throwing: error)
        }
    }
}
