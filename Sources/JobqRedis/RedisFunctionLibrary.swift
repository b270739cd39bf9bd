/// A Redis Functions library (Redis ≥ 7.0): Lua source that starts with `#!lua name=<name>` and
/// registers functions, loaded once with `FUNCTION LOAD` and called with `FCALL`. Unlike an
/// EVALSHA script, its top-level code runs once per load, not at the start of every call.
public struct RedisFunctionLibrary: Sendable, Hashable {
    /// The library's name (the `#!lua name=` of its first line).
    public let name: String
    /// The whole source, shebang line first.
    public let source: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }
}
