import Foundation
import JobqCore

/// JSON on the wire: the one place payloads and results are encoded and decoded.
public enum PayloadCoding {
    public static func encode(_ value: some Encodable) throws(JobqError) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Array(try encoder.encode(value))
        } catch {
            throw JobqError(.invalidPayload, "cannot encode payload as JSON: \(error)")
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(JobqError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes.isEmpty ? Array("null".utf8) : bytes))
        } catch {
            throw JobqError(.invalidPayload, "cannot decode \(T.self) from \(String(decoding: bytes.prefix(200), as: UTF8.self)): \(error)")
        }
    }
}
