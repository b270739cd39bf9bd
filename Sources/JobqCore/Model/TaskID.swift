import Foundation

/// Generated task ids: time-ordered, so that listing by id is listing by creation.
///
/// A ULID: 48 bits of milliseconds and 80 random bits in Crockford base32, 26 characters, inside
/// the name grammar. Sorting the strings sorts by creation time (to the millisecond).
public enum TaskID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public static func generate(now: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return generate(milliseconds: UInt64(max(0, now.timeIntervalSince1970 * 1000)), using: &generator)
    }

    public static func generate<R: RandomNumberGenerator>(milliseconds: UInt64, using generator: inout R) -> String {
        var out = [UInt8](repeating: 0, count: 26)
        var time = milliseconds & 0xFFFF_FFFF_FFFF
        for index in stride(from: 9, through: 0, by: -1) {
            out[index] = alphabet[Int(time & 31)]
            time >>= 5
        }
        // 80 random bits from two draws (64 + 16): each `SystemRandomNumberGenerator` draw is a
        // `getrandom` system call, and one per character (16) was a tenth of a one-task submit's
        // client CPU.
        var random = generator.next()
        for index in 10..<22 {
            out[index] = alphabet[Int(random & 31)]
            random >>= 5
        }
        random = generator.next()
        for index in 22..<26 {
            out[index] = alphabet[Int(random & 31)]
            random >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }
}
