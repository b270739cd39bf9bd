/// What to do about refused credentials, for the two executables that know where the
/// password came from (the library does not: it only has a ``RedisConfiguration``).
///
/// Decided on the server reply's parsed prefix (``JobqError/serverError``), never on message
/// text, so `NOAUTH` (no password given, Redis wants one), `WRONGPASS` (the given user or
/// password was refused) and `NOPERM` (the user may not do this) each get their own advice.
extension JobqError {
    /// This error with advice naming the settings involved.
    ///
    /// - Parameters:
    ///   - passwordSource: where the password came from (`--password-file /run/pw`,
    ///     `JOBQ_REDIS_PASSWORD`, `the URL (--redis)`), nil when none was given.
    ///   - urlSource: where the URL (and so the user name) came from (`--redis`, …).
    package func explainingCredentials(passwordSource: String?, urlSource: String) -> JobqError {
        switch serverError?.prefix {
        case "NOAUTH":
            return with(message: message + " — give the password with --password-file FILE or JOBQ_REDIS_PASSWORD")
        case "WRONGPASS":
            let source = passwordSource.map { "the password from \($0)" } ?? "the password"
            return with(message: message + " — check \(source) and the user name in \(urlSource)")
        case "NOPERM":
            return with(message: message + " — docs/security.md lists the ACL jobq needs")
        default:
            return self
        }
    }
}
