import CJobqSpawn
import Foundation

/// Where a spawned process's standard output and error go.
public enum SpawnOutput: Sendable {
    /// /dev/null.
    case discard
    /// Appended to this file (created if needed).
    case file(String)
    /// Both written to this descriptor (e.g. a pipe's write end), which the caller closes.
    case descriptor(Int32)
}

/// Starts `executable` with `arguments` through `posix_spawn`: a clean signal mask and default
/// signal handlers (Foundation's `Process` passes on the spawning thread's blocked signals, and
/// Swift's worker threads block SIGTERM), stdin from /dev/null, and no inherited descriptor but
/// stdout and stderr — a long-lived child must not hold other tests' pipes open.
///
/// - Parameter environment: the child's whole environment; `nil` passes this process's on.
/// - Returns: the child's pid; the caller reaps it.
public func spawnProcess(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, output: SpawnOutput = .discard
) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    switch output {
    case .discard:
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    case .file(let path):
        posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    case .descriptor(let fd):
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
    }
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    jobq_spawn_file_actions_addclosefrom(&actions, 3)

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
    defer {
        for pointer in argv { free(pointer) }
        for pointer in envp ?? [] { free(pointer) }
    }
    var pid = pid_t()
    let rc = envp.map { envp in posix_spawn(&pid, executable, &actions, &attributes, argv, envp) }
        ?? posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
    guard rc == 0 else {
        throw FixtureError("cannot start \(executable): \(String(cString: strerror(rc)))")
    }
    return pid
}

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
