import Foundation

extension RetryBackoff {
    /// The JSON stored in the task hash (`backoff` field).
    /// Keys sorted: the bytes take part in the idempotency fingerprint, so they must be stable.
    var encodedJSON: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? Array(encoder.encode(self))) ?? Array("{}".utf8)
    }

    init?(json: [UInt8]) {
        guard let value = try? JSONDecoder().decode(RetryBackoff.self, from: Data(json)) else { return nil }
        self = value
    }
}
