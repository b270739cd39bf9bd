import Foundation
import JobqSpawn

/// A product of this package built next to the running test bundle (`.build/<triple>/debug/`),
/// found by walking up from this process's executable; `nil` when it has not been built.
public func builtExecutable(_ name: String) -> String? {
    let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var directory = URL(fileURLWithPath: me).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    return nil
}

/// The environment a test passes to a jobq process: this process's, without any `JOBQ_*`
/// setting that could leak in from the developer's shell, plus `extra`.
public func cleanJobqEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("JOBQ_") }
    environment.merge(extra) { _, new in new }
    return environment
}
