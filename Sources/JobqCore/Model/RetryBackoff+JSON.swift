import Foundation

extension RetryBackoff {
    /// The JSON stored in the task hash (`backoff` field), keys sorted: the bytes take part in
    /// the idempotency fingerprint, so they must be stable.
    ///
    /// Written by hand rather than with `JSONEncoder` (which produces the same bytes, checked by
    /// RetryBackoffJSONTests): it runs for every submitted task, and the encoder's boxing and
    /// key sorting were about a tenth of a one-task submit's client CPU (docs/performance.md).
    var encodedJSON: [UInt8] {
        switch self {
        case .fixed(let delay):
            return Array(#"{"delay_ms":\#(delay.jobqMilliseconds),"kind":"fixed"}"#.utf8)
        case .exponential(let base, let cap, let jitter):
            return Array(#"{"base_ms":\#(base.jobqMilliseconds),"cap_ms":\#(cap.jobqMilliseconds),"jitter":\#(jitter),"kind":"exponential"}"#.utf8)
        }
    }

    init?(json: [UInt8]) {
        guard let value = try? JSONDecoder().decode(RetryBackoff.self, from: Data(json)) else { return nil }
        self = value
    }
}
