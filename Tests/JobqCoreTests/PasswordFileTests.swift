import Foundation
import JobqCore
import Testing

/// The one password-file reader of `jobq --password-file` and `jobq-worker`.
@Suite("PasswordFile")
struct PasswordFileTests {
    func file(_ contents: String) throws -> String {
        let path = NSTemporaryDirectory() + "jobq-pw-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: [
        ("s3cret", "s3cret"), ("s3cret\n", "s3cret"), ("s3cret\r\n", "s3cret"),
        ("s3cret\nsecond line\n", "s3cret"), (" spaced pw \n", " spaced pw "),
    ])
    func readsTheFirstLine(_ contents: String, _ expected: String) throws {
        let path = try file(contents)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try PasswordFile.read(path, setting: "--password-file") == expected)
    }

    @Test func emptyAndMissingFilesNameTheSetting() throws {
        for contents in ["", "\n", "\r\n"] {
            let path = try file(contents)
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect {
                try PasswordFile.read(path, setting: "worker.password_file")
            } throws: { error in
                guard let error = error as? JobqError else { return false }
                return error.code == .invalidConnection && error.message.hasPrefix("worker.password_file: the password file \(path) is empty")
            }
        }
        #expect {
            try PasswordFile.read("/nonexistent/pw", setting: "--password-file")
        } throws: { error in
            guard let error = error as? JobqError else { return false }
            return error.code == .fileNotFound && error.message.hasPrefix("--password-file: cannot read the password file /nonexistent/pw")
        }
    }
}
