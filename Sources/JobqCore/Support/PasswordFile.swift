import Foundation

/// The Redis password from a file (`--password-file`, the worker's `worker.password_file`), read
/// by both executables with the same rules.
///
/// A file, because a password on the command line is visible to every user (`ps`). The
/// password is the file's first line without its line ending (`\n` or `\r\n`), so both
/// `echo pw > file` and an editor's trailing newline work; whitespace inside the line is kept
/// (it may be part of the password). An unreadable file is `file_not_found`, an empty first line
/// `invalid_connection`; both name the setting, and neither reveals the file's content.
package enum PasswordFile {
    /// Reads the password in `path`, given by `setting` (e.g. `--password-file`).
    package static func read(_ path: String, setting: String) throws(JobqError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JobqError(
                .fileNotFound,
                "\(setting): cannot read the password file \(path): check the path and its permissions",
                subject: path
            )
        }
        let password = firstLine(of: String(decoding: data, as: UTF8.self))
        guard !password.isEmpty else {
            throw JobqError(
                .invalidConnection,
                "\(setting): the password file \(path) is empty; put the password on its first line",
                subject: path
            )
        }
        return password
    }

    /// The first line of `text`, without `\n` or `\r\n`.
    /// Works on scalars: `"\r\n"` is one `Character`, so splitting characters at `"\n"` would
    /// keep it (and a CRLF file's password would end in a line break).
    package static func firstLine(of text: String) -> String {
        var scalars = text.unicodeScalars.prefix { $0 != "\n" }
        if scalars.last == "\r" { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}

extension JobqError.Code {
    /// A file named in a setting does not exist or cannot be read.
    public static let fileNotFound = JobqError.Code(rawValue: "file_not_found")
    /// A bad redis URL, password file or namespace setting.
    public static let invalidConnection = JobqError.Code(rawValue: "invalid_connection")
}
